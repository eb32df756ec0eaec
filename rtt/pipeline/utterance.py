"""One utterance as it moves through the stages: its audio, its endpoint, its timings."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Utterance:
    id: int
    start_sample: int  # stream position of its first sample
    started_ms: float  # session clock when speech was detected
    onset_capture_ms: float  # session clock when its first audio arrived
    chunks: list[np.ndarray] = field(default_factory=list)
    n_samples: int = 0
    ended: bool = False
    end_reason: str = ""
    speech_end_samples: int = 0  # voiced audio (+pad) from the start of the utterance
    endpoint_ms: float | None = None  # session clock of the endpoint decision
    speech_end_capture_ms: float | None = None  # session clock when the last voiced audio arrived
    endpoint_capture_ms: float | None = None  # when the audio that completed the endpoint arrived
    trailing_silence_ms: float = 0.0  # the VAD's current silence run inside the utterance
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def append(self, samples: np.ndarray) -> None:
        if len(samples):
            self.chunks.append(samples)
            self.n_samples += len(samples)
            self.changed.set()

    def audio(self, upto: int | None = None) -> np.ndarray:
        if len(self.chunks) > 1:
            self.chunks = [np.concatenate(self.chunks)]
        buf = self.chunks[0] if self.chunks else np.zeros(0, dtype=np.float32)
        return buf[:upto] if upto is not None else buf

    def end(self, reason: str, speech_end_samples: int, endpoint_ms: float) -> None:
        self.ended = True
        self.end_reason = reason
        self.speech_end_samples = max(0, min(self.n_samples, speech_end_samples))
        self.endpoint_ms = endpoint_ms
        self.changed.set()
