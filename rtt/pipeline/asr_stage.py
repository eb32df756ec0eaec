"""Stage 2: utterance audio -> partial and final transcripts (Whisper in a worker thread).

Partials are scheduled by audio time: a decode runs once ``partial_interval_ms`` of new audio
has arrived since the last one began.  If decoding is slower than real time, the next decode
simply takes all audio gathered meanwhile (stale partials are never computed, recent audio is
preferred); the final of every utterance is always produced.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from rtt.asr.base import AsrEngine, AsrWord, DecodeOptions
from rtt.asr.redecode import Redecode
from rtt.asr.streaming import FinalHypothesis, StreamingAsrConfig, UtteranceDecoder
from rtt.asr.vocabulary import with_vocabulary
from rtt.audio.pcm import PIPELINE_RATE
from rtt.diarization.labeler import SpeakerLabeler
from rtt.errors import RttError
from rtt.models.store import fingerprint
from rtt.pipeline.events import (
    ErrorEvent,
    Event,
    FinalAsr,
    FinalTranslation,
    PartialAsr,
    PartialTranslation,
    WordTiming,
)
from rtt.pipeline.utterance import Utterance
from rtt.tracing import span

T = TypeVar("T")

log = logging.getLogger("rtt.pipeline")

MIN_PARTIAL_AUDIO_S = 0.5
PREFINAL_SILENCE_MS = 200.0
PARTIAL_REST = 0.5  # after a partial that took t seconds, the next one waits 0.5 t (ASR <= ~2/3 busy)
# Whisper invents text ("Thank you.", "Subtítulos por...") for noise: drop such finals.
NO_SPEECH_PROB = 0.6
NO_SPEECH_LOGPROB = -1.0
CONTEXT_WORDS = 40


@dataclass
class SourceWords:
    """What the ASR stage hands to the MT stage: committed source words of one utterance."""

    utterance_id: int
    text: str
    final: bool
    source_lang: str
    timings: dict[str, float] = field(default_factory=dict)
    asr_final_emitted: asyncio.Event | None = None  # FinalAsr goes out before FinalTranslation
    marks: dict[str, float] = field(default_factory=dict)  # session-clock instants, the audio span
    speculative: bool = False  # a guess of the final's remaining words (see mt_stage)
    # ``text`` is the whole utterance and replaces the words sent so far (the final dropped a
    # wrong early commit, see UtteranceDecoder.final): the sentence is translated afresh.
    restart: bool = False
    # On a final, when the refinement pass is on: the utterance, to be decoded again afresh.
    redecode: Redecode | None = None
    speaker: str | None = None  # on a final, with diarization on


class AsrStage:
    def __init__(
        self,
        engine_getter: Callable[[], AsrEngine],
        config: StreamingAsrConfig,
        *,
        source_lang: str | None,
        mode: str,
        target_lang: Callable[[], str],
        partial_interval_ms: int,
        partial_results: bool,
        asr_context: bool,
        now_ms: Callable[[], float],
        emit: Callable[[Event], None],
        to_mt: Callable[[SourceWords], None],
        on_final_translation: Callable[[FinalTranslation], None],
        tag: str,
        hold_mt: Callable[[bool], None] = lambda held: None,
        hold_mt_for_final: bool = True,
        prefinal_silence_ms: float = PREFINAL_SILENCE_MS,
        wait_in_pauses: bool = True,
        foreground: Callable[[], AbstractContextManager[None]] = nullcontext,
        refine_beam: int | None = None,
        vocabulary: str = "",
        speakers: SpeakerLabeler | None = None,
    ) -> None:
        """``vocabulary``: the prompt text of the session's terms (rtt/asr/vocabulary.py);
        ``speakers``: labels each final with its speaker (diarization)."""
        self.vocabulary = vocabulary
        self.speakers = speakers
        self.engine_getter = engine_getter
        self.foreground = foreground
        self.config = config
        self.source_lang = source_lang
        self.mode = mode
        self.target_lang = target_lang
        self.interval = max(1, int(partial_interval_ms * PIPELINE_RATE / 1000))
        self.partial_results = partial_results
        self.asr_context = asr_context
        self.speculate = True
        self.now_ms = now_ms
        self.emit = emit
        self.to_mt = to_mt
        self.on_final_translation = on_final_translation
        self.hold_mt = hold_mt
        self.hold_mt_for_final = hold_mt_for_final
        self.prefinal_silence_ms = prefinal_silence_ms
        self.wait_in_pauses = wait_in_pauses
        self.refine_beam = refine_beam  # None: finals are not decoded again (no refinement pass)
        self.tag = tag
        self.last_language: str | None = None
        self._context: dict[str, str] = {}  # language -> recent final text (Whisper prompt)
        self._model_hash: str | None = None  # of the ASR model, for traces (set in run)
        self.stats: dict[str, float] = {"partial_decodes": 0, "prefinal_decodes": 0, "final_decodes": 0,
                                        "finals_reused": 0, "finals_replaced": 0, "partials_deferred_in_pause": 0,
                                        "partial_ms_total": 0.0, "final_ms_total": 0.0}

    def _live(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a decode as live work: background refinement pauses while it runs."""
        with self.foreground():
            return fn(*args)

    async def run(self, utterances: asyncio.Queue[Utterance | None]) -> None:
        try:
            engine: AsrEngine | None = await asyncio.to_thread(self.engine_getter)
        except RttError as exc:  # e.g. the model is not in the store: text input still works
            self.emit(ErrorEvent(exc.code, exc.message, self.now_ms(), exc.retry_after_ms))
            engine = None
        # Read once per session, not per decode: the store manifest does not change under us.
        model_dir = getattr(engine, "model_dir", None)
        self._model_hash = fingerprint(model_dir) if model_dir is not None else None
        while True:
            utt = await utterances.get()
            if utt is None:
                return
            if engine is None:
                continue
            try:
                await self._utterance(engine, utt, utterances)
            except RttError as exc:
                self.emit(ErrorEvent(exc.code, exc.message, self.now_ms(), exc.retry_after_ms))
            except Exception as exc:  # a failing decode must not end the session
                log.exception("%s utt=%d ASR failed", self.tag, utt.id)
                self.emit(ErrorEvent("ASR_FAILED", f"speech recognition failed: {exc}", self.now_ms()))

    async def _utterance(self, engine: AsrEngine, utt: Utterance, queue: asyncio.Queue[Utterance | None]) -> None:
        try:
            await self._decode_utterance(engine, utt, queue)
        finally:
            self.hold_mt(False)

    async def _decode_utterance(self, engine: AsrEngine, utt: Utterance,
                                queue: asyncio.Queue[Utterance | None]) -> None:
        lang = self.source_lang
        prompt = self._context.get(lang or self.last_language or "", "") if self.asr_context else ""
        prompt = with_vocabulary(prompt, self.vocabulary)
        decoder = UtteranceDecoder(engine, self.config, language=lang, prompt=prompt,
                                   fallback_language=self.last_language)
        decoded_upto = 0
        prefinal_done = False
        deferred = False  # a due partial is waiting out the start of this pause
        rest_until = 0.0
        while not utt.ended:
            if not queue.empty():  # a later utterance is waiting: skip partials, go to the final
                while not utt.ended:
                    utt.changed.clear()
                    await utt.changed.wait()
                break
            # A short pause may be the endpoint: decode everything now, so that if the endpoint
            # is confirmed this hypothesis already covers the speech and becomes the final.
            paused = utt.trailing_silence_ms >= self.prefinal_silence_ms
            # A partial begun in the first instants of a pause (before the VAD's speech pad has
            # passed) cannot become the final, yet it keeps Whisper busy past the endpoint and
            # the final is decoded again.  So a partial due then waits for the pre-final mark
            # (at most prefinal_silence_ms, and only in pauses) or for the speech to resume.
            pausing = 0.0 < utt.trailing_silence_ms < self.prefinal_silence_ms and self.wait_in_pauses
            if not paused:
                prefinal_done = False
            fresh = utt.n_samples - decoded_upto
            due = fresh >= self.interval and utt.n_samples >= MIN_PARTIAL_AUDIO_S * PIPELINE_RATE
            resting = time.monotonic() < rest_until
            if due and pausing and not resting and not deferred:
                deferred = True
                self.stats["partials_deferred_in_pause"] += 1
            deferred = deferred and pausing
            if (paused and not prefinal_done and fresh > 0) or (due and not paused and not pausing and not resting):
                prefinal_done = prefinal_done or paused
                audio = utt.audio()
                decoded_upto = len(audio)
                t0 = time.monotonic()
                if paused:
                    self.stats["prefinal_decodes"] += 1
                    # MT waits while this decode runs (see mt_stage); if the pause turns out to
                    # be the endpoint it keeps waiting until the final's words are queued.
                    self.hold_mt(True)
                await self._partial(decoder, utt, audio, prefinal=paused)
                if not utt.ended:
                    self.hold_mt(False)
                # Leave the cores to MT for a while after a slow decode (2-core machines).
                rest_until = time.monotonic() + PARTIAL_REST * (time.monotonic() - t0)
                continue
            utt.changed.clear()
            timeout = rest_until - time.monotonic() if due and resting else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(utt.changed.wait(), timeout)
        await self._final(engine, decoder, utt)

    def _span(self, engine: AsrEngine, utt: Utterance, kind: str, audio: np.ndarray) -> Any:
        return span("rtt.asr.decode", utterance_id=utt.id, kind=kind, engine=engine.name,
                    model_hash=self._model_hash, audio_s=round(len(audio) / PIPELINE_RATE, 3))

    async def _partial(self, decoder: UtteranceDecoder, utt: Utterance, audio: np.ndarray, prefinal: bool = False) -> None:
        with self._span(decoder.engine, utt, "prefinal" if prefinal else "partial", audio):
            hyp = await asyncio.to_thread(self._live, decoder.partial, audio)
        log.debug("%s utt=%d partial on %.2f s took %.0f ms", self.tag, utt.id, len(audio) / PIPELINE_RATE,
                  hyp.result.total_ms)
        self.stats["partial_decodes"] += 1
        self.stats["partial_ms_total"] += hyp.result.total_ms
        now = self.now_ms()
        if self.mode == "direct":
            if self.partial_results:
                self.emit(PartialTranslation(utt.id, hyp.committed, hyp.tentative, 0, now))
            return
        if self.partial_results:
            self.emit(PartialAsr(utt.id, hyp.committed, hyp.tentative, now, hyp.language))
        if hyp.new_committed:
            self.to_mt(SourceWords(utt.id, " ".join(hyp.new_committed), False, hyp.language))
        if prefinal and not utt.ended and self.speculate:
            # If this pause is the endpoint, the final will bring exactly the tentative words.
            self.to_mt(SourceWords(utt.id, hyp.tentative, True, hyp.language, speculative=True))

    def _redecode(self, engine: AsrEngine, decoder: UtteranceDecoder, audio: np.ndarray,
                  final: FinalHypothesis) -> Redecode | None:
        if self.refine_beam is None or self.config.task != "transcribe":
            return None
        options = DecodeOptions(language=final.language, allowed_languages=self.config.allowed_languages,
                                beam_size=self.refine_beam, prompt=decoder.prompt, window="pad30")
        return Redecode(engine, audio, options, final.text, final.language)

    async def _final(self, engine: AsrEngine, decoder: UtteranceDecoder, utt: Utterance) -> None:
        t_start = self.now_ms()
        audio = utt.audio(utt.speech_end_samples or None)
        if not len(audio):
            return
        if self.hold_mt_for_final:
            self.hold_mt(True)  # a final decode is on the critical path, like the pre-final one
        t0 = time.perf_counter()
        log.debug("%s utt=%d final on %.2f s (speech end), last partial saw %.2f s", self.tag, utt.id,
                  len(audio) / PIPELINE_RATE, (decoder.last.audio_samples if decoder.last else 0) / PIPELINE_RATE)
        # Who spoke is worked out beside the final decode (~17 ms a second of speech).
        speaker = asyncio.ensure_future(self._speaker(utt, audio)) if self.speakers is not None else None
        with self._span(engine, utt, "final", audio) as s:
            final: FinalHypothesis = await asyncio.to_thread(self._live, decoder.final, audio, len(audio))
            s.set_attribute("rtt.reused_partial", final.reused_partial)
        label = await speaker if speaker is not None else None
        asr_ms = (time.perf_counter() - t0) * 1000
        self.stats["final_decodes"] += 0 if final.reused_partial else 1
        self.stats["finals_reused"] += 1 if final.reused_partial else 0
        self.stats["final_ms_total"] += asr_ms
        now = self.now_ms()
        endpoint = utt.endpoint_ms if utt.endpoint_ms is not None else now
        timings = {
            "vad": max(0.0, endpoint - (utt.endpoint_capture_ms or endpoint)),
            "asr_wait": max(0.0, t_start - endpoint),
            "asr": asr_ms,
            "asr_reused_partial": float(final.reused_partial),
            "endpoint_to_asr_final": now - endpoint,
        }
        marks = {"endpoint": endpoint, "asr_final_at": now, "audio_start_ms": 1000 * utt.start_sample / PIPELINE_RATE,
                 "audio_end_ms": 1000 * (utt.start_sample + len(audio)) / PIPELINE_RATE}
        if utt.speech_end_capture_ms is not None:
            marks["speech_end_capture"] = utt.speech_end_capture_ms
        text = final.text
        r = final.result
        if r is not None and r.no_speech_prob > NO_SPEECH_PROB and r.avg_logprob < NO_SPEECH_LOGPROB:
            text = ""
        self.last_language = final.language or self.last_language
        if not text:
            if self.mode == "cascade":
                self.to_mt(SourceWords(utt.id, "", True, final.language, timings, None, marks))
            return
        if self.asr_context:
            # The session's last words prime the next utterance (bounded, as whisper_streaming's
            # prompt is): a sentence the VAD cut in two is decoded as one text, not as two
            # fragments ("K K", "texte texte").  A prompt that stops mid-sentence can make
            # Whisper "continue" it with a word or two; UtteranceDecoder._decode catches that
            # (a hypothesis far too short for its audio is decoded again without the prompt).
            recent = f"{self._context.get(final.language, '')} {text}".split()
            self._context[final.language] = " ".join(recent[-CONTEXT_WORDS:])
        start_ms = 1000 * utt.start_sample / PIPELINE_RATE
        end_ms = start_ms + 1000 * len(audio) / PIPELINE_RATE
        if self.mode == "direct":
            ft = FinalTranslation(
                utt.id, text, "", final.language, "en", now,
                latency_ms={**timings, "endpoint_to_final": now - endpoint,
                            **self._speech_end_latency(utt, now)},
                audio_start_ms=start_ms, audio_end_ms=end_ms, speaker=label,
            )
            self.on_final_translation(ft)  # emits it and hands it to TTS
            return
        emitted = asyncio.Event()
        self.to_mt(SourceWords(utt.id, " ".join(final.new_words), True, final.language, timings, emitted, marks,
                               restart=final.replaced, redecode=self._redecode(engine, decoder, audio, final),
                               speaker=label))
        if final.replaced:
            self.stats["finals_replaced"] += 1
        self.hold_mt(False)
        words: list[AsrWord] = []
        try:
            if self.config.word_timestamps:
                words = await asyncio.to_thread(self._live, decoder.align, final)
        except Exception:  # timestamps are a nicety; the transcript must still go out
            log.exception("%s utt=%d word alignment failed", self.tag, utt.id)
        self.emit(FinalAsr(
            utt.id, text, final.language, start_ms, end_ms, self.now_ms(),
            tuple(WordTiming(w.text, start_ms + 1000 * w.start_s, start_ms + 1000 * w.end_s, w.probability)
                  for w in words),
            label,
        ))
        emitted.set()

    async def _speaker(self, utt: Utterance, audio: np.ndarray) -> str | None:
        assert self.speakers is not None
        try:
            with span("rtt.diarization.label", utterance_id=utt.id, audio_s=round(len(audio) / PIPELINE_RATE, 3)):
                return await asyncio.to_thread(self.speakers.label, audio)
        except Exception:  # a label is a nicety; the transcript must still go out
            log.exception("%s utt=%d speaker labelling failed", self.tag, utt.id)
            return None

    @staticmethod
    def _speech_end_latency(utt: Utterance, now: float) -> dict[str, float]:
        if utt.speech_end_capture_ms is None:
            return {}
        return {"speech_end_to_final": now - utt.speech_end_capture_ms}
