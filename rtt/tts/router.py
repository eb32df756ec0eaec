"""Picks the engine for each target language: Piper where a voice is configured, eSpeak NG otherwise."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from rtt.config import TtsConfig
from rtt.errors import ModelMissing, UnsupportedLanguage
from rtt.models.store import ModelStore
from rtt.tts.base import TtsEngine, chunk_pcm


@dataclass(frozen=True)
class TtsChunk:
    pcm16: bytes
    sample_rate: int
    index: int
    is_last: bool


class TtsRouter:
    def __init__(self, config: TtsConfig, store: ModelStore | None = None) -> None:
        self.config = config
        self.store = store or ModelStore()
        self._lock = threading.Lock()
        self._espeak: TtsEngine | None = None
        self._piper: TtsEngine | None = None
        self._piper_failed = False

    def _espeak_engine(self) -> TtsEngine:
        with self._lock:
            if self._espeak is None:
                from rtt.tts.espeak import EspeakEngine

                self._espeak = EspeakEngine()
            return self._espeak

    def _piper_engine(self) -> TtsEngine | None:
        with self._lock:
            if self._piper is None and not self._piper_failed:
                from rtt.tts.piper_engine import PiperEngine

                langs = [lang for lang, kind in self.config.voices.items() if kind == "piper"]
                try:
                    path = self.store.resolve(self.config.piper_model)
                except ModelMissing:
                    self._piper_failed = True  # eSpeak NG still speaks every language
                    return None
                self._piper = PiperEngine({lang: path for lang in langs})
            return self._piper

    def loaded(self) -> dict[str, TtsEngine]:
        """The voices' engines started so far, by name (metrics read them; nothing is loaded)."""
        with self._lock:
            return {name: e for name, e in (("piper", self._piper), ("espeak", self._espeak)) if e is not None}

    def engine_for(self, lang: str, voice: str | None = None) -> TtsEngine:
        kind = voice or self.config.voices.get(lang, "espeak")
        if kind == "piper":
            piper = self._piper_engine()
            if piper is not None and piper.supports(lang):
                return piper
        espeak = self._espeak_engine()
        if not espeak.supports(lang):
            raise UnsupportedLanguage(f"no TTS voice for {lang!r}", lang=lang)
        return espeak

    def prewarm(self, langs: Iterable[str]) -> None:
        for lang in langs:
            self.engine_for(lang).prewarm(lang)

    def stream(self, text: str, lang: str, voice: str | None = None) -> Iterator[TtsChunk]:
        """``chunk_ms`` PCM16 chunks as synthesis proceeds; the last one is flagged."""
        engine = self.engine_for(lang, voice)
        pieces: Iterator[np.ndarray] = engine.synthesize(text, lang)
        prev: bytes | None = None
        index = 0
        for pcm in chunk_pcm(pieces, engine.sample_rate, self.config.chunk_ms):
            if prev is not None:
                yield TtsChunk(prev, engine.sample_rate, index, False)
                index += 1
            prev = pcm
        if prev is not None:
            yield TtsChunk(prev, engine.sample_rate, index, True)
