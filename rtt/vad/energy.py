"""A level detector: speech when a frame's RMS is above a dBFS floor.

It is no model: a fallback when neither model-based VAD is installed, and a deterministic
plumbing fixture for tests (synthetic tones and silence)."""

from __future__ import annotations

import numpy as np

from rtt.audio.pcm import PIPELINE_RATE


class EnergyVad:
    name = "energy"

    def __init__(self, floor_dbfs: float = -40.0, sample_rate: int = PIPELINE_RATE, frame_ms: int = 30) -> None:
        self.floor_dbfs = floor_dbfs
        self.sample_rate = sample_rate
        self.frame_samples = sample_rate * frame_ms // 1000

    def probability(self, frame: np.ndarray) -> float:
        rms = float(np.sqrt(np.mean(np.square(frame, dtype=np.float64)))) if len(frame) else 0.0
        dbfs = 20 * np.log10(max(rms, 1e-9))
        # A soft step 10 dB wide around the floor, so the hysteresis thresholds mean something.
        return float(np.clip((dbfs - self.floor_dbfs) / 10.0 + 0.5, 0.0, 1.0))

    def reset(self) -> None:
        """Stateless."""
