"""faster-whisper (CTranslate2) driven step by step instead of through ``transcribe()``.

``WhisperModel.transcribe`` always pads audio to 30 s, runs temperature fallback and VAD, and
cannot continue a forced prefix.  For a live partial every 0.5 s those are the costs that
matter, so this engine calls the encoder and the decoder directly: the encoder sees the
utterance (rounded up, ``window="fit"``) rather than 30 s, committed words are a forced decoder
prefix (one forward pass instead of one step per token), there is no fallback, and word
timestamps are aligned only when asked (finals).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rtt.asr.base import AsrResult, AsrWord, DecodeOptions
from rtt.asr.normalize import drop_repetition
from rtt.audio.pcm import PIPELINE_RATE
from rtt.errors import BackendUnavailable, InvalidInput
from rtt.metrics.busy import BusyLock

FRAMES_PER_SECOND = 100  # mel frames (10 ms hop)
MAX_FRAMES = 3000  # Whisper's 30 s window
FIT_MARGIN_S = 1.0  # silence after the audio in "fit" mode: Whisper wants to see the speech end
MIN_TOKENS = 8
PREPEND_PUNCTUATION = "\"'“¿([{-"
APPEND_PUNCTUATION = "\"'.。,，!！?？:：”)]}、"
TOKENS_PER_SECOND = 10  # fast read speech is ~3 words/s, ~6-7 Whisper tokens/s in es/fr/de


@dataclass
class _Handle:
    encoder_output: Any
    tokenizer: Any
    tokens: list[int]
    content_frames: int


class WhisperEngine:
    name = "faster-whisper"
    sample_rate = PIPELINE_RATE

    def __init__(self, model_dir: str | Path, compute_type: str = "int8", threads: int | None = None) -> None:
        try:
            from faster_whisper import WhisperModel
            from faster_whisper.tokenizer import Tokenizer
            from faster_whisper.transcribe import get_suppressed_tokens
        except ImportError as exc:  # pragma: no cover - base dependency
            raise BackendUnavailable("faster-whisper is not installed: pip install faster-whisper") from exc
        self._Tokenizer = Tokenizer
        self.model_dir = Path(model_dir)
        # CTranslate2's default (0) means 4 threads: on a 2-core box that oversubscribes the
        # cores the MT model also needs.
        self.threads = threads or min(4, os.cpu_count() or 1)
        self.model: Any = WhisperModel(
            str(model_dir), device="cpu", compute_type=compute_type, cpu_threads=self.threads, num_workers=1
        )
        self.multilingual = bool(self.model.model.is_multilingual)
        self._hf_tokenizer = self.model.hf_tokenizer
        self._suppressed = get_suppressed_tokens(self._tokenizer("en", "transcribe"), [-1])
        self._lock = BusyLock()  # one decode at a time: CTranslate2 already uses all threads
        self.languages: tuple[str, ...] = tuple(self.model.supported_languages)

    # -- helpers --------------------------------------------------------------------------
    def _tokenizer(self, language: str | None, task: str) -> Any:
        lang = language if self.multilingual else "en"
        return self._Tokenizer(self._hf_tokenizer, self.multilingual, task=task, language=lang)

    def _features(self, audio: np.ndarray, window: str) -> tuple[np.ndarray, int]:
        feats = self.model.feature_extractor(audio, padding=160)
        content_frames = min(MAX_FRAMES, int(round(len(audio) * FRAMES_PER_SECOND / PIPELINE_RATE)))
        feats = feats[:, :MAX_FRAMES]
        if window == "pad30":
            target = MAX_FRAMES
        else:
            seconds = math.ceil(len(audio) / PIPELINE_RATE + FIT_MARGIN_S)
            target = min(MAX_FRAMES, seconds * FRAMES_PER_SECOND)
        if feats.shape[-1] < target:
            feats = np.pad(feats, ((0, 0), (0, target - feats.shape[-1])))
        return feats[:, :target], content_frames

    def _encode(self, feats: np.ndarray) -> Any:
        return self.model.encode(feats)

    def _detect(self, encoder_output: Any, allowed: tuple[str, ...]) -> tuple[str, float]:
        results = self.model.model.detect_language(encoder_output)[0]
        probs = [(tok[2:-2], float(p)) for tok, p in results]
        if allowed:
            kept = [(lang, p) for lang, p in probs if lang in allowed]
            probs = kept or probs
        lang, prob = probs[0]
        return lang, prob

    # -- public ---------------------------------------------------------------------------
    def busy_seconds(self) -> float:
        return self._lock.seconds

    def detect_language(self, audio: np.ndarray, allowed: tuple[str, ...] = ()) -> tuple[str, float]:
        if not self.multilingual:
            return "en", 1.0
        with self._lock:
            feats, _ = self._features(audio, "fit")
            return self._detect(self._encode(feats), allowed)

    def decode(self, audio: np.ndarray, options: DecodeOptions) -> AsrResult:
        audio = np.asarray(audio, dtype=np.float32)
        if audio.ndim != 1:
            raise InvalidInput("ASR input must be mono", code="INVALID_AUDIO")
        if len(audio) > MAX_FRAMES * PIPELINE_RATE // FRAMES_PER_SECOND:
            audio = audio[: MAX_FRAMES * PIPELINE_RATE // FRAMES_PER_SECOND]
        with self._lock:
            t0 = time.perf_counter()
            feats, content_frames = self._features(audio, options.window)
            enc = self._encode(feats)
            t1 = time.perf_counter()
            language, lang_prob = options.language or "", 1.0
            if not language:
                language, lang_prob = self._detect(enc, options.allowed_languages)
            if not self.multilingual:
                language = "en"
            tok = self._tokenizer(language, options.task)
            prompt = self._prompt(tok, options)
            # Cap the output by the audio's length: a loop ("x. x. x. ...") on cut audio is
            # Whisper's typical failure and would otherwise run to 448 tokens (seconds of CPU).
            budget = options.max_new_tokens or int(MIN_TOKENS + TOKENS_PER_SECOND * len(audio) / PIPELINE_RATE)
            max_length = min(448, len(prompt) + budget)
            result = self.model.model.generate(
                enc,
                [prompt],
                beam_size=max(1, options.beam_size),
                max_length=max_length,
                return_scores=True,
                return_no_speech_prob=True,
                suppress_blank=not options.prefix,
                suppress_tokens=self._suppressed,
                # A hypothesis that repeats itself is Whisper's failure mode on cut audio.
                no_repeat_ngram_size=0,
                repetition_penalty=1.0,
            )[0]
            tokens = [t for t in result.sequences_ids[0] if t < tok.eot]
            t2 = time.perf_counter()
            # CTranslate2 returns the forced prefix as part of the sequence.
            all_tokens = tokens
            text = drop_repetition(tok.decode(all_tokens).strip())
            n = max(1, len(tokens))
            avg_logprob = float(result.scores[0]) * (n ** 1.0) / (n + 1) if result.scores else 0.0
            words: list[AsrWord] = []
            if options.word_timestamps and all_tokens:
                words = self._align(tok, all_tokens, enc, content_frames)
            t3 = time.perf_counter()
        handle = _Handle(enc, tok, all_tokens, content_frames)
        return AsrResult(
            text=text,
            language=language,
            language_probability=lang_prob,
            words=words,
            no_speech_prob=float(result.no_speech_prob),
            avg_logprob=avg_logprob,
            encode_ms=(t1 - t0) * 1000,
            decode_ms=(t2 - t1) * 1000,
            align_ms=(t3 - t2) * 1000,
            audio_s=len(audio) / PIPELINE_RATE,
            handle=handle,
        )

    def align_text(self, audio: np.ndarray, text: str, language: str, window: str = "fit") -> list[AsrWord]:
        """Word timestamps of ``text`` on ``audio`` without a decode result (a remote caller holds
        no encoder output): encode again, tokenize the text, align."""
        if not text.strip():
            return []
        audio = np.asarray(audio, dtype=np.float32)[: MAX_FRAMES * PIPELINE_RATE // FRAMES_PER_SECOND]
        with self._lock:
            feats, content_frames = self._features(audio, window)
            enc = self._encode(feats)
            tok = self._tokenizer(language if self.multilingual else "en", "transcribe")
            return self._align(tok, tok.encode(" " + text.strip()), enc, content_frames)

    def align(self, result: AsrResult) -> list[AsrWord]:
        h = result.handle
        if not isinstance(h, _Handle) or not h.tokens:
            return []
        with self._lock:
            return self._align(h.tokenizer, h.tokens, h.encoder_output, h.content_frames)

    def _prompt(self, tok: Any, options: DecodeOptions) -> list[int]:
        prompt: list[int] = []
        if options.prompt.strip():
            prev = tok.encode(" " + options.prompt.strip())
            prompt.append(tok.sot_prev)
            prompt.extend(prev[-(448 // 2 - 1):])
        prompt.extend(tok.sot_sequence)
        prompt.append(tok.no_timestamps)
        if options.prefix.strip():
            prompt.extend(tok.encode(" " + options.prefix.strip())[: 448 // 2 - 1])
        return prompt

    def _align(self, tok: Any, tokens: list[int], enc: Any, content_frames: int) -> list[AsrWord]:
        from faster_whisper.transcribe import merge_punctuations

        try:
            aligned = self.model.find_alignment(tok, [tokens], enc, max(2, content_frames))
        except Exception:  # alignment is a nicety: never lose the transcript over it
            return []
        alignment = aligned[0] if aligned else []
        # Attach "¿" to the next word and "." to the previous one, as transcribe() does.
        merge_punctuations(alignment, PREPEND_PUNCTUATION, APPEND_PUNCTUATION)
        out = []
        for w in alignment:
            text = w["word"].strip()
            if text:
                out.append(AsrWord(text, float(w["start"]), float(w["end"]), float(w["probability"])))
        return out

    def close(self) -> None:
        """CTranslate2 frees the model with the object."""
