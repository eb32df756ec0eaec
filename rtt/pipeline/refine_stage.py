"""Stage 3b: finished sentences -> a better transcript and translation later (the refinement pass).

The live tier delivers each final at once; this stage then, for speech, decodes the utterance's
audio again afresh (:mod:`rtt.asr.redecode`: beam search, context, no forced prefix) and emits a
:class:`~rtt.pipeline.events.RevisedAsr`, and re-translates the sentence (as heard now) with the
refinement tier (a larger model) as background work and emits a
:class:`~rtt.pipeline.events.RevisedTranslation`.  Inference yields to live work at every
token (:mod:`rtt.mt.priority`), so refinement spends the idle time between and after
utterances and never delays the next utterance's partials or final.

Waiting jobs are bounded (``capacity``): when the speaker produces sentences faster than the
machine refines them, the oldest waiting one is skipped, so the backlog (and the lag of the
revisions that do arrive) cannot grow without limit.  While the process is over its latency
budget (:mod:`rtt.pipeline.load`, ``shed``), jobs are skipped instead of run.  Every job ends in
exactly one event per kind (the transcript's first); a skipped one says why in ``reason``, one
of :data:`SKIP_REASONS`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from rtt.asr.redecode import AsrRevision, Redecode
from rtt.mt.base import billed_tokens
from rtt.mt.priority import Cancelled
from rtt.pipeline.events import Event, FinalTranslation, RevisedAsr, RevisedTranslation
from rtt.pipeline.load import LOAD_REASON
from rtt.tracing import span

log = logging.getLogger("rtt.pipeline")

# Why a revision was skipped (RevisedTranslation.reason): the service was over its latency
# budget; a newer sentence took the place of a waiting one; the session closed first; the
# refinement engine failed (logged); the sentence had nothing to refine.
SKIP_REASONS = (LOAD_REASON, "backlog", "session_closed", "error", "nothing_to_refine")


@dataclass
class _Job:
    translator: Any  # a SimultaneousTranslator whose sentence is finished
    final: FinalTranslation
    endpoint_ms: float | None  # session clock of the VAD endpoint / last input, when known
    redecode: Redecode | None = None  # speech: the utterance's audio, decoded again first


class RefineStage:
    def __init__(self, *, capacity: int, now_ms: Callable[[], float], emit: Callable[[Event], None], tag: str,
                 executor: Executor | None = None, shed: Callable[[], bool] | None = None,
                 speech_idle: Callable[[], bool] | None = None) -> None:
        self.capacity = capacity
        # A second ASR decode holds the recognizer for up to a second and cannot pause midway:
        # it starts only while the session has no utterance open.
        self.speech_idle = speech_idle or (lambda: True)
        self.shed = shed or (lambda: False)
        # The process's low-priority background thread (ForegroundGate.background_executor);
        # None: the event loop's default pool (tests).
        self.executor = executor
        self.now_ms = now_ms
        self.emit = emit
        self.tag = tag
        self._pending: deque[_Job] = deque()
        self._wake = asyncio.Event()
        self._closing = False
        self._cancel = threading.Event()  # abandons the job in flight (session torn down)
        self.stats: dict[str, float] = {"offered": 0, "revised": 0, "unchanged": 0, "skipped": 0, "wall_ms": 0.0,
                                        "asr_revised": 0, "asr_unchanged": 0}

    def offer(self, translator: Any, final: FinalTranslation, redecode: Redecode | None = None) -> None:
        endpoint = None
        for key in ("endpoint_to_final", "input_to_final"):
            if key in final.latency_ms:
                endpoint = final.at_ms - final.latency_ms[key]
                break
        self.stats["offered"] += 1
        job = _Job(translator, final, endpoint, redecode)
        if self.shed():
            self._skip(job, LOAD_REASON)
            return
        if len(self._pending) >= self.capacity:
            self._skip(self._pending.popleft(), "backlog")
        self._pending.append(job)
        self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._pending)

    def close(self) -> None:
        """Refine what is waiting, then stop (a draining session)."""
        self._closing = True
        self._wake.set()

    def cancel(self) -> None:
        """Stop now: the job in flight is abandoned at its next token, waiting ones are skipped."""
        self._cancel.set()
        while self._pending:
            self._skip(self._pending.popleft(), "session_closed")
        self.close()

    async def run(self) -> None:
        while True:
            if not self._pending:
                if self._closing:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            job = self._pending.popleft()
            if self.shed():  # it waited while the load rose
                self._skip(job, LOAD_REASON)
                continue
            t0 = time.perf_counter()
            loop = asyncio.get_running_loop()
            try:
                with span("rtt.refine", utterance_id=job.final.utterance_id,
                          tier=getattr(job.translator, "refine_tier", None),
                          engine=getattr(getattr(job.translator, "refine_engine", None), "name", None),
                          redecode=job.redecode is not None):
                    heard = await self._redecode(job) if job.redecode is not None else None
                    source = heard.text if heard is not None and heard.changed else None
                    revision = await loop.run_in_executor(
                        self.executor, functools.partial(job.translator.revise, self._cancel, source=source))
            except Cancelled:
                self._skip(job, "session_closed")
                continue
            except Exception:  # the fast final stands; the client learns why
                log.exception("%s utt=%d refinement failed", self.tag, job.final.utterance_id)
                self._skip(job, "error")
                continue
            # Wall time of the job, pauses for live work included (not its compute).
            wall = (time.perf_counter() - t0) * 1000
            if revision is None:
                self._skip(job, "nothing_to_refine")
                continue
            self.stats["wall_ms"] += wall
            status = "revised" if revision.changed else "unchanged"
            self.stats[status] += 1
            self.emit(self._event(job, revision.text, status, engine=revision.engine,
                                  extra={"refine_wall": wall}, tier=getattr(job.translator, "refine_tier", ""),
                                  tokens=billed_tokens(revision.cost)))

    async def _redecode(self, job: _Job) -> AsrRevision | None:
        """Decode the utterance again and emit its ``RevisedAsr``; None (and ``skipped``, reason
        ``error``) when the decode fails: the translation is then refined from the final's words."""
        assert job.redecode is not None
        redecode, job.redecode = job.redecode, None  # one RevisedAsr per final, whatever follows
        loop = asyncio.get_running_loop()
        try:
            heard = await loop.run_in_executor(self.executor, redecode.run, functools.partial(self._wait_idle, job))
        except Cancelled:
            job.redecode = redecode  # _skip reports it with the translation
            raise
        except Exception:
            log.exception("%s utt=%d ASR refinement failed", self.tag, job.final.utterance_id)
            self.emit(self._asr_event(job, redecode, redecode.final_text, "skipped", reason="error"))
            return None
        status = "revised" if heard.changed else "unchanged"
        self.stats[f"asr_{status}"] += 1
        self.emit(self._asr_event(job, redecode, heard.text, status, redecode_ms=heard.decode_ms))
        return heard

    def _wait_idle(self, job: _Job) -> None:
        """Block (in the background thread) until no live work runs and no speech is open."""
        gate = getattr(job.translator, "gate", None)
        while True:
            if gate is not None:
                gate.pause_point(self._cancel)
            if self.speech_idle():
                return
            if self._cancel.wait(0.05):
                raise Cancelled()

    def _skip(self, job: _Job, reason: str) -> None:
        self.stats["skipped"] += 1
        self.stats[f"skipped_{reason}"] = self.stats.get(f"skipped_{reason}", 0) + 1
        if job.redecode is not None:
            self.emit(self._asr_event(job, job.redecode, job.redecode.final_text, "skipped", reason=reason))
            job.redecode = None
        self.emit(self._event(job, job.final.text, "skipped", reason=reason))

    def _latency(self, job: _Job, extra: dict[str, float] | None = None) -> dict[str, float]:
        now = self.now_ms()
        latency = {"final_to_revision": now - job.final.at_ms, **(extra or {})}
        if job.endpoint_ms is not None:
            latency["endpoint_to_revision"] = now - job.endpoint_ms
        return latency

    def _asr_event(self, job: _Job, redecode: Redecode, text: str, status: str, *, reason: str = "",
                   redecode_ms: float | None = None) -> RevisedAsr:
        extra = {"redecode": redecode_ms} if redecode_ms is not None else None
        return RevisedAsr(job.final.utterance_id, text, redecode.final_text, status, self.now_ms(),
                          self._latency(job, extra), redecode.language or "", reason)

    def _event(self, job: _Job, text: str, status: str, *, engine: str = "", reason: str = "",
               extra: dict[str, float] | None = None, tier: str = "", tokens: int = 0) -> RevisedTranslation:
        return RevisedTranslation(job.final.utterance_id, text, job.final.text, status, self.now_ms(),
                                  self._latency(job, extra), engine, reason, tier, tokens,
                                  job.final.target_lang)
