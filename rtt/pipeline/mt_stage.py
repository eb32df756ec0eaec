"""Stage 3: committed source words -> simultaneous translation (the policy runs in a worker thread).

Words that arrive while a translation step is running are merged into the next step, so a
slow MT model takes bigger steps instead of falling further behind; the final step of an
utterance is never skipped.

Speculative finish: when the speaker pauses, the ASR stage sends its best guess of the rest of
the sentence (``speculative=True``).  If the MT worker is idle it finishes the sentence on a
copy of the translator; when the endpoint confirms exactly those words, that result is the
final translation and the MT time after the endpoint is ~0.  A wrong guess costs one discarded
step while the worker had nothing else to do.

Refinement: when the utterance's translator has a refinement engine, the final is marked
``revision_pending`` and handed to ``refine`` (the :class:`~rtt.pipeline.refine_stage.
RefineStage`) after it is delivered; this stage never waits for it.

Yielding to the pre-final decode: while the ASR stage decodes a pause that may be the endpoint,
no new non-final step starts (:meth:`MtStage.hold`).  On 2 cores a step running beside that
decode slows it down, and the final then also waits for the step to finish; held words are
merged into the next step instead (with the final, when the pause was the endpoint).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rtt.asr.redecode import Redecode
from rtt.errors import RttError
from rtt.mt.base import billed_tokens
from rtt.pipeline.asr_stage import SourceWords
from rtt.pipeline.events import ErrorEvent, Event, FinalTranslation, PartialTranslation, TargetWord
from rtt.tracing import span

log = logging.getLogger("rtt.pipeline")


@dataclass
class _Open:
    """The utterance being translated."""

    utterance_id: int
    source_lang: str
    target_lang: str
    translator: Any  # SimultaneousTranslator, or None for identity (source == target)
    source: list[str] = field(default_factory=list)
    words: list[TargetWord] = field(default_factory=list)
    mt_ms: float = 0.0
    steps: int = 0
    tokens: int = 0
    started_ms: float = 0.0
    failed: bool = False
    speculation: _Speculation | None = None


@dataclass
class _Speculation:
    text: str  # the words the final step was assumed to bring
    source_len: int  # source words already pushed when it ran
    update: Any
    ms: float
    translator: Any  # the copy that ran the step: it becomes the utterance's translator if used


class MtStage:
    def __init__(
        self,
        translator_for: Callable[[str, str], Any],
        *,
        target_lang: Callable[[], str],
        partial_results: bool,
        now_ms: Callable[[], float],
        emit: Callable[[Event], None],
        on_final: Callable[[FinalTranslation], None],
        tag: str,
        refine: Callable[[Any, FinalTranslation, Redecode | None], None] | None = None,
        thin: Callable[[], bool] | None = None,
        defer: Callable[[], bool] | None = None,
    ) -> None:
        self.queue: asyncio.Queue[SourceWords | None] = asyncio.Queue()
        self.translator_for = translator_for
        self.target_lang = target_lang
        self.partial_results = partial_results
        self.now_ms = now_ms
        self.emit = emit
        self.on_final = on_final
        self.refine = refine
        # True while the load level thins tentative words (rtt/pipeline/load.py).
        self.thin = thin or (lambda: False)
        # True while non-final steps wait for the sentence's end (the load's "partials" step).
        self.defer = defer or (lambda: False)
        self.tag = tag
        self._open: dict[int, _Open] = {}
        self._released = asyncio.Event()  # cleared while the ASR stage holds non-final steps
        self._released.set()
        self.stats: dict[str, float] = {"steps": 0, "merged_items": 0, "mt_ms_total": 0.0,
                                        "speculations": 0, "speculations_used": 0, "restarts": 0}

    async def run(self) -> None:
        while True:
            item = await self.queue.get()
            if item is None:
                return
            if not item.final and not item.speculative and not self._released.is_set():
                await self._released.wait()
            item = self._merge(item)
            try:
                if item.speculative:
                    if self.queue.empty():  # only when nothing real is waiting
                        await self._speculate(item)
                    continue
                await self._step(item)
            except RttError as exc:
                self._fail(item, exc.code, exc.message, exc.retry_after_ms)
            except Exception as exc:
                log.exception("%s utt=%d MT failed", self.tag, item.utterance_id)
                self._fail(item, "MT_FAILED", f"translation failed: {exc}", None)

    def hold(self, held: bool) -> None:
        """Hold (or release) new non-final steps; finals and speculation always run."""
        if held:
            self._released.clear()
        else:
            self._released.set()

    def _merge(self, item: SourceWords) -> SourceWords:
        """Fold the already-queued words of the same utterance into one step."""
        while not item.final and not self.queue.empty():
            nxt = self.queue._queue[0]  # type: ignore[attr-defined]
            if nxt is None or nxt.utterance_id != item.utterance_id or nxt.speculative or item.speculative:
                break
            self.queue.get_nowait()
            self.stats["merged_items"] += 1
            # The later item's fields stand (a final's timings, marks, redecode), with the words of both.
            item = dataclasses.replace(nxt, text=nxt.text if nxt.restart else f"{item.text} {nxt.text}".strip())
        return item

    async def _speculate(self, item: SourceWords) -> None:
        state = await self._state(item)
        if state.failed or state.translator is None or not (state.source or item.text.strip()):
            return
        t0 = time.perf_counter()
        clone = await asyncio.to_thread(_clone, state.translator)
        if clone is None:
            return
        update = await asyncio.to_thread(clone.push, item.text, True)
        ms = (time.perf_counter() - t0) * 1000
        state.speculation = _Speculation(item.text, len(state.source), update, ms, clone)
        self.stats["speculations"] += 1

    def _fail(self, item: SourceWords, code: str, message: str, retry: int | None) -> None:
        self.emit(ErrorEvent(code, message, self.now_ms(), retry))
        state = self._open.get(item.utterance_id)
        if state is not None:
            state.failed = True
        if item.final:
            self._open.pop(item.utterance_id, None)

    async def _state(self, item: SourceWords) -> _Open:
        state = self._open.get(item.utterance_id)
        if state is None:
            tgt = self.target_lang()
            src = item.source_lang
            translator = None if src == tgt else await asyncio.to_thread(self.translator_for, src, tgt)
            state = _Open(item.utterance_id, src, tgt, translator, started_ms=self.now_ms())
            self._open[item.utterance_id] = state
        return state

    async def _step(self, item: SourceWords) -> None:
        state = await self._state(item)
        if state.failed:
            if item.final:
                self._open.pop(item.utterance_id, None)
            return
        if item.restart:
            # The ASR final replaced what partials committed: translate the sentence afresh.
            state.source.clear()
            state.words.clear()
            state.speculation = None
            if state.translator is not None and hasattr(state.translator, "reset"):
                await asyncio.to_thread(state.translator.reset)
            self.stats["restarts"] += 1
        new_words = item.text.split()
        state.source.extend(new_words)
        if not item.final and not new_words:
            return
        t_queue = self.now_ms()
        t0 = time.perf_counter()
        used_speculation = False
        deferred = False
        if state.translator is None:
            committed_text, tentative, source_read = " ".join(state.source), "", len(state.source)
            committed = new_words
        else:
            spec = state.speculation
            state.speculation = None
            if item.final and not state.source:
                update = None
            elif (item.final and spec is not None and spec.text.split() == new_words
                  and spec.source_len == len(state.source) - len(new_words)):
                update = spec.update  # the pause was the endpoint and the guess was right
                state.translator = spec.translator
                used_speculation = True
                self.stats["speculations_used"] += 1
            else:
                if hasattr(state.translator, "thin_tentative"):
                    state.translator.thin_tentative = self.thin()
                    deferred = state.translator.defer_steps = self.defer() and not item.final
                engine = getattr(state.translator, "engine", None)
                with span("rtt.mt.step", utterance_id=item.utterance_id, final=item.final,
                          engine=getattr(engine, "name", None), tier=getattr(state.translator, "tier", None),
                          model_hash=getattr(state.translator, "model_hash", None), words=len(new_words)):
                    update = await asyncio.to_thread(state.translator.push, item.text, item.final)
            committed_text = update.committed_text if update else ""
            tentative = update.tentative if update else ""
            committed = [w.text for w in update.committed] if update else []
            source_read = int(getattr(state.translator, "source_words_read", len(state.source)))
        step_ms = (time.perf_counter() - t0) * 1000
        cost = getattr(update, "cost", None) if state.translator is not None else None
        if cost is not None:
            state.tokens += billed_tokens(cost)
        state.mt_ms += step_ms
        state.steps += 1
        self.stats["steps"] += 1
        self.stats["mt_ms_total"] += step_ms
        now = self.now_ms()
        for w in committed:
            state.words.append(TargetWord(w, source_read, now))
        if not item.final:
            if self.partial_results and not deferred:
                self.emit(PartialTranslation(item.utterance_id, committed_text, tentative, source_read, now,
                                             state.target_lang))
            return
        self._open.pop(item.utterance_id, None)
        if not state.source:
            return  # nothing was said: no translation to deliver
        if item.asr_final_emitted is not None:
            await item.asr_final_emitted.wait()
        refinable = self.refine is not None and bool(getattr(state.translator, "refinable", False))
        now = self.now_ms()
        timings = dict(item.timings)
        marks = item.marks
        if "asr_final_at" in marks:
            timings["mt_wait"] = max(0.0, t_queue - marks["asr_final_at"])
        timings["mt"] = step_ms
        timings["mt_total"] = state.mt_ms
        timings["mt_steps"] = float(state.steps)
        timings["mt_speculative"] = float(used_speculation)
        for mark, key in (("endpoint", "endpoint_to_final"), ("speech_end_capture", "speech_end_to_final"),
                          ("input", "input_to_final")):
            if mark in marks:
                timings[key] = now - marks[mark]
        final = FinalTranslation(
            item.utterance_id,
            committed_text,
            " ".join(state.source),
            state.source_lang,
            state.target_lang,
            now,
            latency_ms=timings,
            words=tuple(state.words),
            audio_start_ms=marks.get("audio_start_ms"),
            audio_end_ms=marks.get("audio_end_ms"),
            revision_pending=refinable,
            tier=str(getattr(state.translator, "tier", "") or ""),
            tokens=state.tokens,
            speaker=item.speaker,
        )
        self.on_final(final)
        if refinable and self.refine is not None:
            self.refine(state.translator, final, item.redecode)


def _clone(translator: Any) -> Any:
    """A private copy of a SimultaneousTranslator's state that shares its (heavy) engine."""
    import copy

    # Engines and the gate are shared, never copied (they hold models, locks and threads).
    shared = [getattr(translator, name, None) for name in ("engine", "final_engine", "refine_engine", "gate")]
    memo: dict[int, Any] = {id(obj): obj for obj in shared if obj is not None}
    try:
        return copy.deepcopy(translator, memo)
    except Exception:  # an engine handle that cannot be copied: no speculation, no harm
        log.debug("translator cannot be copied for speculation", exc_info=True)
        return None
