"""Incremental decoding of one utterance: partials with LocalAgreement, then a final.

Synchronous and single-threaded by design: the pipeline calls it from one worker thread per
stream (never two calls at once for the same utterance), with snapshots of the audio so far.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rtt.asr.agreement import LocalAgreement
from rtt.asr.base import AsrEngine, AsrResult, AsrWord, DecodeOptions, Task, Window

# Below this much audio a language guess is unreliable; decoding still runs on the best guess.
LANGUAGE_LOCK_S = 2.0
LANGUAGE_LOCK_PROB = 0.8


@dataclass
class StreamingAsrConfig:
    task: Task = "transcribe"
    beam_size_partial: int = 1
    beam_size_final: int = 1
    agreement_n: int = 2
    window: Window = "fit"
    word_timestamps: bool = True
    allowed_languages: tuple[str, ...] = ()


@dataclass
class PartialHypothesis:
    new_committed: list[str]
    committed: str
    tentative: str
    language: str
    audio_samples: int  # how much audio this hypothesis saw
    result: AsrResult


@dataclass
class FinalHypothesis:
    text: str
    new_words: list[str]  # words beyond those already committed by partials
    language: str
    words: list[AsrWord] = field(default_factory=list)
    reused_partial: bool = False
    result: AsrResult | None = None


class UtteranceDecoder:
    def __init__(
        self,
        engine: AsrEngine,
        config: StreamingAsrConfig,
        language: str | None = None,
        prompt: str = "",
        fallback_language: str | None = None,
    ) -> None:
        self.engine = engine
        self.config = config
        self.language = language  # fixed, or None until detected
        self._language_locked = language is not None
        self.fallback_language = fallback_language
        self.prompt = prompt
        self.agreement = LocalAgreement(config.agreement_n)
        self.last: PartialHypothesis | None = None
        self.decodes = 0

    @property
    def committed_text(self) -> str:
        return " ".join(self.agreement.committed)

    def _options(self, beam: int, words: bool) -> DecodeOptions:
        return DecodeOptions(
            language=self.language if self._language_locked else None,
            allowed_languages=self.config.allowed_languages,
            task=self.config.task,
            beam_size=beam,
            prompt=self.prompt,
            prefix=self.committed_text,
            window=self.config.window,
            word_timestamps=words,
        )

    def _note_language(self, result: AsrResult, audio_s: float) -> None:
        if self._language_locked:
            return
        lang = result.language
        if result.language_probability < 0.5 and self.fallback_language:
            lang = self.fallback_language
        self.language = lang
        if audio_s >= LANGUAGE_LOCK_S or result.language_probability >= LANGUAGE_LOCK_PROB:
            self._language_locked = True

    def partial(self, audio: np.ndarray) -> PartialHypothesis:
        result = self.engine.decode(audio, self._options(self.config.beam_size_partial, False))
        self.decodes += 1
        self._note_language(result, len(audio) / 16000)
        new = self.agreement.update(result.text.split())
        hyp = PartialHypothesis(
            new_committed=new,
            committed=self.committed_text,
            tentative=" ".join(self.agreement.tentative()),
            language=self.language or result.language,
            audio_samples=len(audio),
            result=result,
        )
        self.last = hyp
        return hyp

    def can_reuse(self, speech_end_samples: int) -> bool:
        """The last partial saw every voiced sample and used the final beam: decoding again adds nothing."""
        return (
            self.last is not None
            and self.last.audio_samples >= speech_end_samples
            and self.config.beam_size_final == self.config.beam_size_partial
        )

    def final(self, audio: np.ndarray, speech_end_samples: int | None = None) -> FinalHypothesis:
        end = len(audio) if speech_end_samples is None else speech_end_samples
        before = len(self.agreement.committed)
        if self.can_reuse(end) and self.last is not None:
            result = self.last.result
            words = result.text.split()
            reused = True
        else:
            result = self.engine.decode(audio, self._options(self.config.beam_size_final, False))
            self.decodes += 1
            self._note_language(result, len(audio) / 16000)
            words = result.text.split()
            reused = False
        # The final keeps every committed word: decoding was forced to continue them.
        committed = self.agreement.committed
        text_words = committed + words[len(committed):]
        new_words = text_words[before:]
        self.agreement.committed = list(text_words)
        return FinalHypothesis(
            text=" ".join(text_words),
            new_words=new_words,
            language=self.language or result.language,
            reused_partial=reused,
            result=result,
        )

    def align(self, final: FinalHypothesis) -> list[AsrWord]:
        """Word timestamps for a final (a separate step so the translation need not wait for it)."""
        if not final.text or final.result is None:
            return []
        words = self.engine.align(final.result)
        # Alignment covers the decoded text; when committed words were kept over a differing
        # decode, the timings would not match the text, so none is better than wrong ones.
        if [w.text for w in words] != final.text.split():
            return [w for w in words] if len(words) == len(final.text.split()) else []
        return words
