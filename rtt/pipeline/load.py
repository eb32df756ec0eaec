"""The latency budget under load: what gives way, in which order, and when it comes back.

On a saturated machine every session's final waits for the CPU, so a service that keeps doing
everything it does when idle lets latency grow without bound.  One :class:`LoadGovernor` per
process (owned by :class:`~rtt.pipeline.components.Components`) watches the final latencies of
all sessions and keeps a *level*: how many of the configured steps (``load.steps``) are in
force.  In the default order:

1. ``refinement``: finished sentences are not re-translated by the refinement tier; each final
   with a pending revision gets ``revised_translation`` ``skipped`` with reason ``load``.
2. ``tentative``: partial translations show committed words only, and a wait-k step that would
   decode only tentative words is not run (it costs a decode and commits nothing).
3. ``tier``: a session's next utterance moves to the next cheaper tier of ``load.tier_order``
   that has another engine for its direction (none in the default config for the LLM
   directions; e.g. Qwen ``standard`` -> Gemma ``fast`` -> Apertium ``rule`` for es<->en).
4. ``partials``: words are read without a translation step until the sentence ends, then one
   step writes it (partial translations pause; ASR partials go on).  On a small LLM most of a
   step is re-reading the prompt after the new words (~2 ms a token for Gemma 270M on 2 cores),
   so one step a sentence instead of one per word or two is what lets a saturated CPU catch up.

One more step is taken when the rolling p95 is still over the budget ``step_s`` after the last
change (a step needs a moment to show in the latencies it relieves); one is taken back when p95
stays under ``recover_ratio`` x the budget, or no final was seen in the window, for
``recover_s``.  The gap between the two thresholds keeps the level from flapping.  Sessions
announce each change that concerns them to their client once (a ``notice``).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from rtt.config import LoadConfig

# Codes of the notices a session sends when a step starts (down) or ends (up) for it.
STEP_DOWN = {"refinement": "LOAD_REFINEMENT_SKIPPED", "tentative": "LOAD_TENTATIVE_THINNED",
             "tier": "LOAD_TIER_DOWN", "partials": "LOAD_PARTIALS_PAUSED"}
STEP_UP = {"refinement": "LOAD_REFINEMENT_RESUMED", "tentative": "LOAD_TENTATIVE_RESTORED",
           "tier": "LOAD_TIER_UP", "partials": "LOAD_PARTIALS_RESUMED"}
MESSAGES = {
    "refinement": "the service is under load: finals are not refined until it eases",
    "tentative": "the service is under load: partial translations show committed words only",
    "partials": "the service is under load: translations come when each sentence ends",
}
# The reason a revised_translation carries when the refinement step is in force.
LOAD_REASON = "load"


@dataclass
class LoadCounts:
    step_downs: dict[str, int] = field(default_factory=dict)  # by step
    step_ups: dict[str, int] = field(default_factory=dict)


class LoadGovernor:
    def __init__(self, config: LoadConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self._clock = clock
        self._lock = threading.Lock()
        self._samples: deque[tuple[float, float]] = deque()  # (time, final latency ms)
        self._level = 0
        self._changed_at = clock()
        self._calm_since: float | None = None
        self.counts = LoadCounts()
        self.p95_ms: float | None = None

    @property
    def steps(self) -> list[str]:
        return list(self.config.steps) if self.config.enabled else []

    def observe(self, latency_ms: float) -> None:
        """A final was delivered this long after its endpoint (speech) or last input (text)."""
        with self._lock:
            self._samples.append((self._clock(), float(latency_ms)))
            self._update(observed=True)

    @property
    def level(self) -> int:
        with self._lock:
            self._update()
            return self._level

    def sheds(self, step: str) -> bool:
        """Whether ``step`` is in force now."""
        steps = self.steps
        return step in steps and steps.index(step) < self.level

    def _update(self, observed: bool = False) -> None:
        # Down only on a new final (the evidence); up also when asked (an idle service eases).
        cfg = self.config
        now = self._clock()
        while self._samples and self._samples[0][0] < now - cfg.window_s:
            self._samples.popleft()
        n_steps = len(self.steps)
        if n_steps == 0:
            self._level = 0
            return
        values = [v for _, v in self._samples]
        enough = len(values) >= cfg.min_samples
        self.p95_ms = float(np.percentile(values, 95)) if values else None
        over = enough and self.p95_ms is not None and self.p95_ms > cfg.final_p95_ms
        calm = not values or (enough and self.p95_ms is not None and self.p95_ms < cfg.recover_ratio * cfg.final_p95_ms)
        if over:
            self._calm_since = None
            if observed and self._level < n_steps and now - self._changed_at >= cfg.step_s:
                step = self.steps[self._level]
                self._level += 1
                self._changed_at = now
                self.counts.step_downs[step] = self.counts.step_downs.get(step, 0) + 1
            return
        if not calm or self._level == 0:
            self._calm_since = None
            return
        if self._calm_since is None:
            self._calm_since = now
        elif now - self._calm_since >= cfg.recover_s:
            self._level -= 1
            step = self.steps[self._level]
            self._changed_at = now
            self._calm_since = now  # the next step back needs its own calm spell
            self.counts.step_ups[step] = self.counts.step_ups.get(step, 0) + 1


def cheaper_tier(order: list[str], tier: str, has_other_engine: Callable[[str], bool]) -> str | None:
    """The first tier after ``tier`` in ``order`` (most expensive first) for which
    ``has_other_engine`` holds; None when ``tier`` is not in the order or nothing cheaper fits."""
    if tier not in order:
        return None
    for candidate in order[order.index(tier) + 1:]:
        if has_other_engine(candidate):
            return candidate
    return None
