"""Cuts a sample stream of arbitrary chunk sizes into fixed-size frames for the VAD."""

from __future__ import annotations

import numpy as np


class Framer:
    def __init__(self, frame_samples: int) -> None:
        if frame_samples <= 0:
            raise ValueError("frame_samples must be positive")
        self.frame_samples = frame_samples
        self._rest = np.zeros(0, dtype=np.float32)
        self.samples_out = 0  # samples emitted as whole frames so far (the stream position)

    def push(self, samples: np.ndarray) -> list[np.ndarray]:
        buf = np.concatenate([self._rest, np.asarray(samples, dtype=np.float32)]) if len(self._rest) else samples
        n = len(buf) // self.frame_samples
        frames = [buf[i * self.frame_samples : (i + 1) * self.frame_samples] for i in range(n)]
        self._rest = np.array(buf[n * self.frame_samples :], dtype=np.float32)
        self.samples_out += n * self.frame_samples
        return frames

    def flush(self) -> list[np.ndarray]:
        """Pad the last partial frame with silence so trailing speech is not lost."""
        if not len(self._rest):
            return []
        frame = np.zeros(self.frame_samples, dtype=np.float32)
        frame[: len(self._rest)] = self._rest
        self._rest = np.zeros(0, dtype=np.float32)
        self.samples_out += self.frame_samples
        return [frame]
