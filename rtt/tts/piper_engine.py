"""Piper (VITS, ONNX Runtime) voices from the model store; one voice per language."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from rtt.errors import BackendUnavailable, ModelMissing, UnsupportedLanguage
from rtt.metrics.busy import BusyLock


class PiperEngine:
    name = "piper"

    def __init__(self, voices: dict[str, Path]) -> None:
        """``voices``: language -> a directory holding one ``*.onnx`` + ``*.onnx.json`` (or the .onnx file)."""
        self._paths = dict(voices)
        self._voices: dict[str, Any] = {}
        self._load_lock = threading.Lock()
        self._run_lock = BusyLock()  # ONNX Runtime already uses every core per call
        self.sample_rate = 22050

    def busy_seconds(self) -> float:
        return self._run_lock.seconds

    def supports(self, lang: str) -> bool:
        return lang in self._paths

    def _voice(self, lang: str) -> Any:
        if lang not in self._paths:
            raise UnsupportedLanguage(f"no Piper voice for {lang!r}", lang=lang)
        with self._load_lock:
            if lang not in self._voices:
                try:
                    from piper import PiperVoice
                except ImportError as exc:
                    raise BackendUnavailable("piper-tts is not installed: pip install piper-tts") from exc
                path = self._paths[lang]
                onnx = path if path.suffix == ".onnx" else next(iter(sorted(path.glob("*.onnx"))), None)
                if onnx is None or not onnx.is_file():
                    raise ModelMissing(f"no Piper .onnx voice in {path}", path=str(path))
                voice = PiperVoice.load(onnx)
                self._voices[lang] = voice
                self.sample_rate = int(voice.config.sample_rate)
            return self._voices[lang]

    def synthesize(self, text: str, lang: str) -> Iterator[np.ndarray]:
        voice = self._voice(lang)
        # Piper yields one chunk per sentence, so audio streams sentence by sentence.
        it = iter(voice.synthesize(text))
        while True:
            with self._run_lock:
                chunk = next(it, None)
            if chunk is None:
                return
            yield np.asarray(chunk.audio_int16_array, dtype=np.int16)

    def prewarm(self, lang: str) -> None:
        for _ in self.synthesize("Hello.", lang):
            pass
