"""One live stream: audio or text in, events out (contract: docs/session-api.md).

Stages run as asyncio tasks connected by queues; every inference call (VAD, Whisper, the MT
policy, TTS) runs in a worker thread, so the event loop only moves data.  Latency marks are
taken on one monotonic session clock and reported per utterance in
``FinalTranslation.latency_ms``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from rtt import tracing
from rtt.asr.redecode import Redecode
from rtt.asr.streaming import StreamingAsrConfig
from rtt.asr.vocabulary import vocabulary_prompt
from rtt.audio.decoder import AudioDecoder
from rtt.audio.jitter import JitterBuffer
from rtt.diarization.change import SpeakerChangeDetector
from rtt.diarization.labeler import SpeakerLabeler
from rtt.diarization.tracker import SpeakerTracker
from rtt.errors import InvalidInput
from rtt.languages import AUTO, LANGUAGES, get_language
from rtt.pipeline.asr_stage import AsrStage, SourceWords
from rtt.pipeline.audio_stage import AudioChunk, AudioStage, Control
from rtt.pipeline.channel import EventChannel
from rtt.pipeline.components import Components
from rtt.pipeline.events import ErrorEvent, Event, FinalTranslation, Notice
from rtt.pipeline.load import MESSAGES, STEP_DOWN, STEP_UP, cheaper_tier
from rtt.pipeline.mt_stage import MtStage
from rtt.pipeline.options import SessionOptions
from rtt.pipeline.privacy import EventMasker
from rtt.pipeline.refine_stage import RefineStage
from rtt.pipeline.timeline import CaptureTimeline
from rtt.pipeline.tts_stage import TtsStage
from rtt.text.glossary import glossary_sources
from rtt.text.validation import check_unicode

log = logging.getLogger("rtt.pipeline")

__all__ = ["Session", "SessionOptions"]


class Session:
    def __init__(self, components: Components, options: SessionOptions | None = None, session_id: str | None = None) -> None:
        self.components = components
        self.options = (options or SessionOptions()).with_defaults(components.config).validate(
            max_targets=components.config.mt.max_targets)
        self.id = session_id or uuid.uuid4().hex[:12]
        self.tag = f"session={self.id}"
        self._t0 = time.monotonic()
        self._channel = EventChannel()
        self._ids = itertools.count()
        self._timeline = CaptureTimeline()
        self._jitter = JitterBuffer()
        self._decoder: AudioDecoder | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._text_lang: str | None = None
        self._text_utterance: int | None = None
        self._started = False
        self._closed = False
        self._paused = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._vad: Any = None  # borrowed from components.vads, given back by close()
        # Load steps this session's client was told about (rtt/pipeline/load.py).
        self._announced: set[str] = set()
        self._live_tiers: dict[tuple[str, str], str] = {}
        self.audio: AudioStage | None = None
        self.asr: AsrStage | None = None
        self.mt: MtStage | None = None  # the primary target's; self.mts has one per target
        self.mts: list[MtStage] = []
        self.refine: RefineStage | None = None
        self.tts: TtsStage | None = None
        self._span: Any = None  # the session's trace (rtt/tracing.py), from start to close
        o = self.options
        self._mask: EventMasker | None = None
        if o.pii_masking or o.profanity_masking:
            self._mask = EventMasker(pii=bool(o.pii_masking), profanity=bool(o.profanity_masking),
                                     target_lang=lambda: self.options.target_lang)

    # -- clock & plumbing -------------------------------------------------------------------------
    def now_ms(self) -> float:
        return (time.monotonic() - self._t0) * 1000.0

    def _emit(self, event: Event) -> None:
        # Every event passes here: masked once, before any client, store or log sees it.
        self._channel.put(self._mask(event) if self._mask is not None else event)

    def _next_id(self) -> int:
        return next(self._ids)

    def _translator_for(self, src: str, tgt: str) -> Any:
        # One SimultaneousTranslator per utterance: cheap (the engine is shared), and a text
        # sentence and a speech utterance in flight together never share policy state.
        o = self.options
        return self.components.translator.simultaneous(
            src, tgt, policy=o.policy, stabilization=o.stabilization, tier=self._live_tier(src, tgt),
            glossary=o.glossary, formality=o.formality, punctuation=o.punctuation,
            refine_tier=self.components.config.mt.refine_tier if self.refine is not None else None,
            mask_pii=o.pii_masking, mask_profanity=o.profanity_masking,
        )

    def _to_mt(self, words: SourceWords) -> None:
        """The ASR's (or the text input's) words to every target's MT stream.  The refinement
        pass's second decode goes with the primary target only: its revised transcript is
        announced once (the other targets refine the delivered transcript)."""
        for i, mt in enumerate(self.mts):
            mt.queue.put_nowait(words if i == 0 else dataclasses.replace(
                words, timings=dict(words.timings), marks=dict(words.marks), redecode=None))

    def _hold_mt(self, held: bool) -> None:
        for mt in self.mts:
            mt.hold(held)

    # -- load (rtt/pipeline/load.py) ---------------------------------------------------------------
    def _live_tier(self, src: str, tgt: str) -> str | None:
        """The session's tier, or a cheaper one while the load level steps tiers down; a change
        is announced when the utterance that uses it starts (runs in a worker thread)."""
        requested = self.options.tier or self.components.config.mt.default_tier
        tier = requested
        if self.components.load_governor.sheds("tier"):
            tier = self._cheaper_tier(requested, src, tgt) or requested
        before = self._live_tiers.get((src, tgt), requested)
        self._live_tiers[(src, tgt)] = tier
        if tier != before:
            code = "LOAD_TIER_UP" if tier == requested else "LOAD_TIER_DOWN"
            why = "the load eased" if tier == requested else "the service is under load"
            self._loop_emit(Notice(code, f"{why}: {src}->{tgt} is translated by tier {tier!r} (was {before!r})",
                                   self.now_ms()))
        return tier

    def _cheaper_tier(self, tier: str, src: str, tgt: str) -> str | None:
        translator = self.components.translator
        engine_for = getattr(translator, "engine_for", None)
        if engine_for is None:
            return None

        def engine_name(t: str) -> str | None:
            try:
                return str(engine_for(src, tgt, t, self.options.formality).name)
            except Exception:  # the tier does not serve this direction
                return None

        current = engine_name(tier)
        return cheaper_tier(list(self.components.config.load.tier_order), tier,
                            lambda t: engine_name(t) not in (None, current))

    def _loop_emit(self, event: Event) -> None:
        loop = self._loop
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(self._emit, event)
        else:
            self._emit(event)

    def _announce_load(self) -> None:
        """Tell the client once when refinement or tentative words give way or come back."""
        governor = self.components.load_governor
        mine = {"refinement": self.refine is not None, "tentative": self.options.partial_results,
                "partials": self.options.partial_results}
        for step, applies in mine.items():
            if not applies:
                continue
            now_on = governor.sheds(step)
            if now_on and step not in self._announced:
                self._announced.add(step)
                self._emit(Notice(STEP_DOWN[step], MESSAGES[step], self.now_ms()))
            elif not now_on and step in self._announced:
                self._announced.discard(step)
                self._emit(Notice(STEP_UP[step], f"the load eased: {step} is back", self.now_ms()))

    def _emit_mt(self, event: Event) -> None:
        self._announce_load()
        self._emit(event)

    def _refine_or_shed(self, translator: Any, final: FinalTranslation, redecode: Redecode | None = None) -> None:
        assert self.refine is not None
        self._announce_load()
        self.refine.offer(translator, final, redecode)

    def _on_final_translation(self, final: FinalTranslation) -> None:
        if self._mask is not None:
            final = self._mask(final)  # TTS speaks what the captions show
        latency = final.latency_ms.get("endpoint_to_final", final.latency_ms.get("input_to_final"))
        if latency is not None:
            self.components.load_governor.observe(latency)
        self._emit_mt(final)
        if self.tts is not None:
            self.tts.queue.put_nowait(final)
        log.info("%s utt=%d final %s->%s latency=%s", self.tag, final.utterance_id, final.source_lang,
                 final.target_lang, {k: round(v) for k, v in final.latency_ms.items()})

    # -- lifecycle --------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        o = self.options
        self._t0 = time.monotonic()
        self._loop = asyncio.get_running_loop()
        self._decoder = AudioDecoder(o.audio_format, o.sample_rate)
        vad = await asyncio.to_thread(self.components.vads.acquire) if o.vad else None
        self._vad = vad
        cfg = self.components.config
        speakers, change_detector = await self._diarization()
        self.audio = AudioStage(vad, cfg.vad, now_ms=self.now_ms, emit=self._emit, next_utterance_id=self._next_id,
                                timeline=self._timeline, tag=self.tag, change_detector=change_detector)
        if o.refinement is not False and cfg.mt.refine_tier and not cfg.mt.final_tier:
            governor = self.components.load_governor
            self.refine = RefineStage(capacity=cfg.mt.refine_queue, now_ms=self.now_ms, emit=self._emit, tag=self.tag,
                                      executor=self.components.gate.background_executor(),
                                      shed=lambda: governor.sheds("refinement"),
                                      speech_idle=lambda: self.audio is None or self.audio.current is None)
        # One simultaneous MT stream per listener language, all fed by the one ASR stream.
        self.mts = [
            MtStage(self._translator_for, target_lang=lambda i=i: self.options.targets[i],  # type: ignore[misc]
                    partial_results=o.partial_results, now_ms=self.now_ms, emit=self._emit_mt,
                    on_final=self._on_final_translation, tag=self.tag if i == 0 else f"{self.tag} target={tgt}",
                    refine=self._refine_or_shed if self.refine is not None else None,
                    thin=lambda: self.components.load_governor.sheds("tentative"),
                    defer=lambda: self.components.load_governor.sheds("partials"))
            for i, tgt in enumerate(o.targets)
        ]
        self.mt = self.mts[0]
        asr_cfg = StreamingAsrConfig(
            task="translate" if o.mode == "direct" else "transcribe",
            beam_size_partial=cfg.asr.beam_size_partial,
            beam_size_final=cfg.asr.beam_size_final,
            agreement_n=cfg.asr.agreement_n,
            word_timestamps=o.word_timestamps,
            allowed_languages=tuple(LANGUAGES),
            commit_guards=cfg.asr.commit_guards,
        )
        self.asr = AsrStage(
            lambda: self.components.asr, asr_cfg,
            source_lang=None if o.source_lang == AUTO else o.source_lang,
            mode=o.mode, target_lang=lambda: self.options.target_lang,
            partial_interval_ms=cfg.asr.partial_interval_ms, partial_results=o.partial_results,
            asr_context=o.asr_context, now_ms=self.now_ms, emit=self._emit,
            vocabulary=self._vocabulary_prompt(),
            foreground=self.components.gate.foreground,
            to_mt=self._to_mt, on_final_translation=self._on_final_translation, tag=self.tag,
            hold_mt=self._hold_mt if cfg.asr.mt_yields_to_prefinal else lambda held: None,
            hold_mt_for_final=cfg.asr.mt_yields_to_final,  # a no-op when hold_mt is (no yielding at all)
            prefinal_silence_ms=cfg.asr.prefinal_silence_ms,
            wait_in_pauses=cfg.asr.partials_wait_in_pauses,
            refine_beam=cfg.asr.beam_size_refine if self.refine is not None and cfg.asr.refine_transcripts else None,
            speakers=speakers,
        )
        if o.tts and cfg.tts.enabled:
            self.tts = TtsStage(lambda: self.components.tts, voice=o.tts_voice, now_ms=self.now_ms,
                                emit=self._emit, tag=self.tag)
            for tgt in o.targets:
                self._tasks.append(asyncio.create_task(self.tts.prewarm(tgt)))
        # One trace per session: the stage tasks start inside its span, so every step's span is
        # its child (rtt/tracing.py).
        self._span = tracing.start_root("rtt.session", session_id=self.id, source_lang=o.source_lang,
                                        target_lang=o.target_lang, mode=o.mode, policy=o.policy,
                                        asr_model_hash=self.components.asr_model_hash())
        with tracing.within(self._span):
            self._tasks += [
                asyncio.create_task(self.audio.run(), name=f"{self.id}-audio"),
                asyncio.create_task(self.asr.run(self.audio.utterances), name=f"{self.id}-asr"),
            ]
            self._tasks += [asyncio.create_task(mt.run(), name=f"{self.id}-mt") for mt in self.mts]
            if self.refine is not None:
                self._tasks.append(asyncio.create_task(self.refine.run(), name=f"{self.id}-refine"))
            if self.tts is not None:
                self._tasks.append(asyncio.create_task(self.tts.run(), name=f"{self.id}-tts"))
        for task in self._tasks:
            task.add_done_callback(self._stage_ended)
        log.info("%s started %s->%s mode=%s", self.tag, o.source_lang, ",".join(o.targets), o.mode)

    async def _diarization(self) -> tuple[SpeakerLabeler | None, SpeakerChangeDetector | None]:
        """The session's speaker labeler (and change detector), when it asked for diarization.
        Models missing from the store fail the session's start with MODEL_MISSING."""
        if not self.options.diarization:
            return None, None
        models = await asyncio.to_thread(lambda: self.components.diarization)
        cfg = models.config
        labeler = SpeakerLabeler(models.encoder, SpeakerTracker(cfg.max_speakers, cfg.threshold))
        detector = SpeakerChangeDetector(models.segmenter, models.encoder, cfg.threshold) if cfg.split_on_change else None
        return labeler, detector

    def _stage_ended(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        exc = task.exception()
        log.error("%s stage %s died: %r", self.tag, task.get_name(), exc)
        code = getattr(exc, "code", "STAGE_FAILED")
        self._emit(ErrorEvent(str(code), f"pipeline stage {task.get_name()} stopped: {exc}", self.now_ms()))

    def _check_open(self) -> None:
        if not self._started:
            raise InvalidInput("session not started", code="SESSION_NOT_STARTED")
        if self._closed:
            raise InvalidInput("session is closed", code="SESSION_CLOSED")

    # -- input ------------------------------------------------------------------------------------
    async def push_audio(self, data: bytes, seq: int | None = None) -> None:
        self._check_open()
        if self._paused:
            return
        payloads = [data] if seq is None else self._jitter.push(seq, data)
        assert self._decoder is not None and self.audio is not None
        for payload in payloads:
            samples = self._decoder.decode(payload)
            if len(samples):
                self._timeline.add(len(samples), self.now_ms())
                self.audio.offer(AudioChunk(samples))

    async def push_text(self, text: str, final: bool = False) -> None:
        """Text input: words go straight to the MT stage; ``final`` closes the sentence."""
        self._check_open()
        assert self.mt is not None
        if not isinstance(text, str):
            raise InvalidInput("text must be a string", field="text")
        if len(text) > self.components.config.text.max_chars:
            raise InvalidInput("text is too long", code="TEXT_TOO_LONG", limit=self.components.config.text.max_chars)
        check_unicode(text)
        if self._text_utterance is None:
            if not text.strip():
                return
            self._text_utterance = self._next_id()
            src = self.options.source_lang
            self._text_lang = self._detect_text_language(text) if src == AUTO else src
        src = self._text_lang or "en"
        uid = self._text_utterance
        marks = {"input": self.now_ms()}
        self._to_mt(SourceWords(uid, text.strip(), final, src, {}, None, marks))
        if final:
            self._text_utterance = None

    def _detect_text_language(self, text: str) -> str:
        try:
            from rtt.text.langid import detect_language

            code, _conf = detect_language(text)
            return str(code)
        except Exception:
            last = self.asr.last_language if self.asr else None
            return last or "en"

    async def commit(self) -> None:
        """Force the end of the current utterance (speech and/or text)."""
        self._check_open()
        assert self.audio is not None
        self.audio.offer(Control("commit"))
        if self._text_utterance is not None:
            await self.push_text("", final=True)

    async def set_target_lang(self, lang: str) -> None:
        """Applies from the next utterance; the one in progress is committed first.  With
        several targets it replaces the primary (the first)."""
        code = get_language(lang).code
        if code == self.options.source_lang:
            raise InvalidInput(f"source and target are both {code!r}", code="UNSUPPORTED_LANGUAGE")
        if self.options.mode == "direct" and code != "en":
            raise InvalidInput("direct mode only produces English", code="UNSUPPORTED_LANGUAGE")
        if code in self.options.targets[1:]:
            raise InvalidInput(f"{code!r} is already one of this session's targets", code="UNSUPPORTED_LANGUAGE")
        await self.commit()
        self.options.target_lang = code
        if self.options.target_langs:  # the primary target changes; the others stay
            self.options.target_langs = (code, *self.options.target_langs[1:])

    def set_glossary(self, glossary: Any) -> None:
        """Applies from the next utterance (its source terms join the recognition vocabulary)."""
        self.options.glossary = glossary
        if self.asr is not None:
            self.asr.vocabulary = self._vocabulary_prompt()

    def _vocabulary_prompt(self) -> str:
        return vocabulary_prompt([*self.options.vocabulary, *glossary_sources(self.options.glossary)])

    async def pause(self) -> None:
        """Close the utterance in progress and ignore audio until ``resume``."""
        if not self._paused:
            await self.commit()
            self._paused = True

    async def resume(self) -> None:
        self._paused = False

    # -- output -----------------------------------------------------------------------------------
    async def events(self) -> AsyncIterator[Event]:
        async for event in self._channel:
            yield event

    async def close(self, drain: bool = True) -> None:
        if self._closed:
            return
        self._closed = True
        if not self._started:
            self._channel.close()
            return
        assert self.audio is not None and self.mt is not None
        if drain:
            for payload in self._jitter.flush():
                assert self._decoder is not None
                samples = self._decoder.decode(payload)
                self._timeline.add(len(samples), self.now_ms())
                self.audio.offer(AudioChunk(samples))
            if self._text_utterance is not None:
                self._to_mt(SourceWords(self._text_utterance, "", True, self._text_lang or "en"))
                self._text_utterance = None
            self.audio.offer(Control("end"))
            await self._tasks_named("audio", "asr")
            for mt in self.mts:
                mt.queue.put_nowait(None)
            await self._tasks_named("mt")
            if self.tts is not None:
                self.tts.queue.put_nowait(None)
            if self.refine is not None:
                self.refine.close()  # revisions of the last sentences still arrive before the end
            await self._tasks_named("tts")
            await self._drain_refinement()
        elif self.refine is not None:
            self.refine.cancel()
        for task in self._tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._vad is not None and drain:
            # Drained: the audio stage has returned, no detector call is in flight in a thread.
            # (After a cancel one may still run; that detector is left to the collector.)
            self.components.vads.release(self._vad)
        self._vad = None
        self._channel.close()
        if self._span is not None:
            self._span.end()
        log.info("%s closed", self.tag)

    async def _drain_refinement(self) -> None:
        if self.refine is None:
            return
        tasks = [t for t in self._tasks if t.get_name().endswith("-refine")]
        if not tasks:
            return
        done, _ = await asyncio.wait(tasks, timeout=self.components.config.mt.refine_drain_s)
        if not done:
            self.refine.cancel()  # what is left is skipped, each with its event
            await self._tasks_named("refine")

    async def _tasks_named(self, *names: str) -> None:
        tasks = [t for t in self._tasks if t.get_name().rsplit("-", 1)[-1] in names]
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for r in results:
            if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError):
                log.error("%s stage failed: %r", self.tag, r)

    # -- introspection ----------------------------------------------------------------------------
    def queue_depths(self) -> dict[str, int]:
        """Items waiting in front of each stage now (a metric: where a session backs up)."""
        out = {"audio": self.audio.queue.qsize() if self.audio else 0,
               "asr": self.audio.utterances.qsize() if self.audio else 0,
               "mt": sum(mt.queue.qsize() for mt in self.mts),
               "refine": self.refine.pending if self.refine else 0,
               "tts": self.tts.queue.qsize() if self.tts else 0}
        return out

    @property
    def stats(self) -> dict[str, Any]:
        out: dict[str, Any] = {"dropped_partials": self._channel.dropped, "jitter": vars(self._jitter.stats),
                               "dropped_audio_chunks": self.audio.dropped_chunks if self.audio else 0}
        if self.asr is not None:
            out["asr"] = dict(self.asr.stats)
        if self.mt is not None:
            out["mt"] = dict(self.mt.stats)
        if self.refine is not None:
            out["refine"] = dict(self.refine.stats)
        if self.tts is not None:
            out["tts_first_chunk_ms"] = list(self.tts.first_chunk_ms)
        return out
