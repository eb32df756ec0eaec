"""Incremental decoding of one utterance: partials with LocalAgreement, then a final.

Synchronous and single-threaded by design: the pipeline calls it from one worker thread per
stream (never two calls at once for the same utterance), with snapshots of the audio so far.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace

import numpy as np

from rtt.asr import guards
from rtt.asr.agreement import LocalAgreement
from rtt.asr.base import AsrEngine, AsrResult, AsrWord, DecodeOptions, Task, Window
from rtt.asr.normalize import normalize_word
from rtt.audio.pcm import PIPELINE_RATE

# Below this much audio a language guess is unreliable; decoding still runs on the best guess.
LANGUAGE_LOCK_S = 2.0
LANGUAGE_LOCK_PROB = 0.8
MIN_COMMIT_AUDIO_S = 1.0
# The first commit of an utterance is the one every later decode is forced to continue: it
# waits for more audio than the later ones (and for the language lock, at LANGUAGE_LOCK_S).
FIRST_COMMIT_AUDIO_S = 1.5
DERAIL_S = 1.5
SECONDS_PER_WORD_MAX = 1.5  # after the first second, speech has at least one word per 1.5 s


def words_after(committed: list[str], hypothesis: list[str]) -> list[str]:
    """Words of ``hypothesis`` after the last committed word it contains (all of it if none)."""
    ck = [normalize_word(w) for w in committed]
    hk = [normalize_word(w) for w in hypothesis]
    blocks = [b for b in difflib.SequenceMatcher(a=ck, b=hk, autojunk=False).get_matching_blocks() if b.size]
    if not blocks:
        return list(hypothesis)
    last = blocks[-1]
    return list(hypothesis[last.b + last.size :])


@dataclass
class StreamingAsrConfig:
    task: Task = "transcribe"
    beam_size_partial: int = 1
    beam_size_final: int = 1
    agreement_n: int = 2
    window: Window = "fit"
    word_timestamps: bool = True
    allowed_languages: tuple[str, ...] = ()
    commit_guards: bool = True  # see rtt.asr.guards


@dataclass
class PartialHypothesis:
    new_committed: list[str]
    committed: str
    tentative: str
    language: str
    audio_samples: int  # how much audio this hypothesis saw
    result: AsrResult
    words: list[str] = field(default_factory=list)  # the full hypothesis (committed words first)


@dataclass
class FinalHypothesis:
    text: str
    new_words: list[str]  # words beyond those already committed by partials
    language: str
    words: list[AsrWord] = field(default_factory=list)
    reused_partial: bool = False
    result: AsrResult | None = None
    # The committed words were dropped: a decode without them was clean where the forced one
    # was not (a wrong early commit), so ``text`` replaces everything partials committed.
    replaced: bool = False


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
        self.derailments = 0
        self._longest = 0  # words in the longest hypothesis so far
        self._grew_at = 0  # audio samples when it last grew

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

    def _decode(self, audio: np.ndarray, beam: int) -> tuple[AsrResult, list[str]]:
        """Decode continuing the committed words; recover when the conditioning derails Whisper.

        Two things can make Whisper stop early: a forced prefix that does not match the audio
        (an early mis-hearing that two partials happened to agree on), and a prompt that ends
        mid-sentence (it then "continues" the prompt with a word or two).  When the hypothesis
        has not grown although ``DERAIL_S`` more audio came in, or is far too short for the
        audio, the audio is decoded again without prefix and prompt, and whatever follows the
        last committed word found in that hypothesis is appended (committed words still never
        change).  The longer result wins.
        """
        result = self.engine.decode(audio, self._options(beam, False))
        self.decodes += 1
        self._note_language(result, len(audio) / PIPELINE_RATE)
        words = result.text.split()
        audio_s = len(audio) / PIPELINE_RATE
        stalled = bool(self.agreement.committed) and len(words) <= self._longest and (
            len(audio) - self._grew_at >= DERAIL_S * PIPELINE_RATE)
        too_short = len(words) < (audio_s - 1.0) / SECONDS_PER_WORD_MAX
        if stalled or too_short:
            free = self.engine.decode(audio, replace(self._options(beam, False), prefix="", prompt=""))
            self.decodes += 1
            committed = self.agreement.committed
            candidate = committed + words_after(committed, free.text.split()) if committed else free.text.split()
            if len(candidate) > len(words):
                self.derailments += 1
                result, words = free, candidate
        if len(words) > self._longest:
            self._longest = len(words)
            self._grew_at = len(audio)
        return result, words

    def partial(self, audio: np.ndarray) -> PartialHypothesis:
        result, words = self._decode(audio, self.config.beam_size_partial)
        # The first second of an utterance is where Whisper guesses most: nothing is committed
        # from it (a wrong committed word is forced on every later decode).
        new: list[str] = []
        committed = self.agreement.committed
        guarded = self.config.commit_guards
        enough = FIRST_COMMIT_AUDIO_S if guarded and not committed else MIN_COMMIT_AUDIO_S
        if len(audio) >= enough * PIPELINE_RATE:
            allowed = guards.committable(words, len(committed), self._guard_language(),
                                         result.avg_logprob, result.no_speech_prob) if guarded else None
            new = self.agreement.update(words, max_new=allowed)
        else:
            self.agreement.tentative_only(words)
        last = self.agreement.committed[-1] if self.agreement.committed else None
        hyp = PartialHypothesis(
            new_committed=new,
            committed=self.committed_text,
            tentative=" ".join(guards.collapse_repeats(self.agreement.tentative(), last) if guarded
                               else self.agreement.tentative()),
            language=self.language or result.language,
            audio_samples=len(audio),
            result=result,
            words=words,
        )
        self.last = hyp
        return hyp

    def _guard_language(self) -> str | None:
        """The language committed words are checked against (script, text language ID): only
        once it is settled."""
        return self.language if self._language_locked else None

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
            result, words = self.last.result, self.last.words
            reused = True
        else:
            result, words = self._decode(audio, self.config.beam_size_final)
            reused = False
        # The final keeps the committed words (decoding was forced to continue them) unless
        # they led the decode astray: then a decode without them stands if it is clean.
        committed = self.agreement.committed
        text_words = committed + words[len(committed):]
        replaced = False
        lang = self._guard_language()
        if self.config.commit_guards and committed and not guards.clean(text_words, lang):
            free = self.engine.decode(audio, replace(self._options(self.config.beam_size_final, False),
                                                     prefix=""))
            self.decodes += 1
            free_words = free.text.split()
            if free_words and guards.clean(free_words, lang):
                result, text_words, replaced = free, free_words, True
        new_words = list(text_words) if replaced else text_words[before:]
        self.agreement.committed = list(text_words)
        return FinalHypothesis(
            text=" ".join(text_words),
            new_words=new_words,
            language=self.language or result.language,
            reused_partial=reused and not replaced,
            result=result,
            replaced=replaced,
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
