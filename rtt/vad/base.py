"""The VAD protocol: one speech probability per fixed-size 16 kHz frame."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Vad(Protocol):
    name: str
    sample_rate: int
    frame_samples: int  # the frame size this detector needs (the framer cuts audio to it)

    def probability(self, frame: np.ndarray) -> float:
        """Speech probability in [0, 1] of one float32 frame of ``frame_samples`` samples."""
        ...

    def reset(self) -> None:
        """Forget the stream (recurrent state) before an unrelated one."""
        ...
