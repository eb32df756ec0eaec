"""Online speaker assignment: each utterance's voice joins the closest known speaker or, when
no known voice is close enough, becomes a new one (up to a bound).

A speaker's voice is the duration-weighted mean of its utterances' embeddings, so one odd
utterance moves it little.  Very short utterances carry little voice: they may join a speaker
but never start one, nor move one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_NEW_SPEAKER_S = 1.0  # shorter speech is too little to tell a new voice from a known one
MIN_UPDATE_S = 0.8


@dataclass
class _Voice:
    label: str
    total: np.ndarray  # sum of embedding x seconds
    seconds: float

    @property
    def centroid(self) -> np.ndarray:
        return self.total / max(float(np.linalg.norm(self.total)), 1e-9)


class SpeakerTracker:
    def __init__(self, max_speakers: int, threshold: float, label_format: str = "Speaker {n}") -> None:
        self.max_speakers = max_speakers
        self.threshold = threshold
        self.label_format = label_format
        self.voices: list[_Voice] = []

    def similarities(self, embedding: np.ndarray) -> list[float]:
        return [float(v.centroid @ embedding) for v in self.voices]

    def assign(self, embedding: np.ndarray, seconds: float) -> str:
        sims = self.similarities(embedding)
        best = int(np.argmax(sims)) if sims else -1
        close = best >= 0 and sims[best] >= self.threshold
        if not close and len(self.voices) < self.max_speakers and (seconds >= MIN_NEW_SPEAKER_S or best < 0):
            voice = _Voice(self.label_format.format(n=len(self.voices) + 1), embedding * seconds, seconds)
            self.voices.append(voice)
            return voice.label
        voice = self.voices[best]
        if seconds >= MIN_UPDATE_S:
            voice.total = voice.total + embedding * seconds
            voice.seconds += seconds
        return voice.label
