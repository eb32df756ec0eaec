"""Quality signals that need no reference, cheap enough for every live final (the service counts
them per direction; ``deploy/alerts.yml`` alerts when their rates rise).

* **untranslated**: the output is empty or repeats the source (an engine that echoes its input,
  a misrouted direction);
* **wrong language**: the output confidently reads as another language than the target (text
  language ID on 3+ words, the test the ASR commit guards use; a model that drifted into the
  source language or into English);
* **QE similarity** (:class:`RollingQe`): how close the final's meaning stays to the source's;
* **tier agreement** (:func:`tier_agreement`): how far the refinement tier rewrote the final.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from rtt.asr.normalize import normalize_text
from rtt.metrics.qe import qe_available
from rtt.mt.priority import lower_thread_priority
from rtt.text.langid import reads_as_other_language

log = logging.getLogger("rtt.metrics.online")


def untranslated(text: str, source: str) -> bool:
    out = normalize_text(text)
    return not out or (out == normalize_text(source) and any(c.isalpha() for c in out))


def wrong_language(text: str, target_lang: str) -> bool:
    return reads_as_other_language(text.split(), target_lang)


def tier_agreement(live: str, refined: str) -> float:
    """chrF of the live final against the refinement tier's translation of the same sentence
    (100 when the better model agreed).  Falling agreement means the live tier drifted from
    what the accurate one writes: a QE proxy that costs nothing, the refinement ran anyway."""
    from rtt.metrics.quality import sentence_chrf

    if normalize_text(live) == normalize_text(refined):
        return 100.0
    return float(sentence_chrf(live, refined))


class RollingQe:
    """QE similarity (:mod:`rtt.metrics.qe`) of live finals, a rolling mean per direction over the
    last ``window`` scored finals: a drop says the live tier stopped writing what was said
    (off-topic, hallucinated or garbled output) without any reference.

    Scored on one lowest-priority thread beside the live work (about 5 ms a pair on 2 cores);
    a final offered while ``max_pending`` wait is not scored, so a burst never builds a backlog.
    Without the encoder package (``rtt[research]``) nothing is scored.
    """

    def __init__(self, window: int = 50, max_pending: int = 8,
                 scorer_factory: Callable[[], Any] | None = None) -> None:
        self.window = window
        self.max_pending = max_pending
        self._factory = scorer_factory or _use_scorer
        self._scorer: Any = None
        self._disabled = scorer_factory is None and not qe_available()
        self._scores: dict[str, deque[float]] = {}
        self._pending = 0
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self.skipped = 0

    @property
    def enabled(self) -> bool:
        return not self._disabled

    def offer(self, direction: str, source: str, text: str) -> bool:
        """Queue one final for scoring; False when it was not (disabled, empty, or too busy)."""
        if self._disabled or not source.strip() or not text.strip():
            return False
        with self._lock:
            if self._pending >= self.max_pending:
                self.skipped += 1
                return False
            self._pending += 1
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="rtt-qe",
                                                    initializer=lower_thread_priority)
            executor = self._executor
        executor.submit(self._score, direction, source, text)
        return True

    def _score(self, direction: str, source: str, text: str) -> None:
        try:
            if self._scorer is None:
                self._scorer = self._factory()
            (score,) = self._scorer.segment_scores([source], [text])
        except Exception:  # the signal is optional: a broken encoder turns it off, never a session
            log.exception("QE similarity failed; the online signal is off")
            self._disabled = True
            return
        finally:
            with self._lock:
                self._pending -= 1
        with self._lock:
            self._scores.setdefault(direction, deque(maxlen=self.window)).append(score)

    def means(self) -> dict[str, float]:
        with self._lock:
            return {d: sum(s) / len(s) for d, s in self._scores.items() if s}

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)


def _use_scorer() -> Any:
    from rtt.metrics.qe import UseSimilarity

    return UseSimilarity(threads=1)
