"""A session's speaker labels: each final utterance's voice, matched against the voices heard
so far in the session (rtt/diarization/tracker.py)."""

from __future__ import annotations

import threading

import numpy as np

from rtt.diarization.encoder import SpeakerEncoder
from rtt.diarization.tracker import SpeakerTracker

SAMPLE_RATE = 16000
MIN_SPEECH_S = 0.3  # below this there is no voice to speak of: the previous speaker holds


class SpeakerLabeler:
    def __init__(self, encoder: SpeakerEncoder, tracker: SpeakerTracker) -> None:
        self.encoder = encoder
        self.tracker = tracker
        self.last: str | None = None
        self._lock = threading.Lock()  # labels are assigned in utterance order, one at a time

    def label(self, audio: np.ndarray) -> str | None:
        """The speaker of one utterance's audio (16 kHz float); runs in a worker thread."""
        seconds = len(audio) / SAMPLE_RATE
        if seconds < MIN_SPEECH_S:
            return self.last
        embedding = self.encoder.embed(audio)
        with self._lock:
            self.last = self.tracker.assign(embedding, seconds)
            return self.last
