"""Ends an utterance where another voice takes over without a pause the VAD would hear.

While an utterance is open, every CHECK_EVERY_S of new audio the segmentation model looks at
its last WINDOW_S; a change it finds is confirmed by the speaker encoder (the voices before
and after must not match), then the audio stage cuts the utterance there and the rest starts
the next one.  Runs in the audio stage's worker thread; its cost is one segmentation call
(~20 ms for 8 s on one core) per second of speech.
"""

from __future__ import annotations

import numpy as np

from rtt.diarization.encoder import SpeakerEncoder
from rtt.diarization.segmentation import SAMPLE_RATE, Segmenter

WINDOW_S = 8.0
CHECK_EVERY_S = 1.0
MIN_UTTERANCE_S = 2.5  # before this there is nothing to split
CONFIRM_S = 3.0  # audio each side of a proposed change the encoder compares


class SpeakerChangeDetector:
    def __init__(self, segmenter: Segmenter, encoder: SpeakerEncoder, threshold: float) -> None:
        self.segmenter = segmenter
        self.encoder = encoder
        self.threshold = threshold
        self._chunks: list[np.ndarray] = []
        self._n = 0
        self._start = 0  # stream sample of the buffer's first sample
        self._checked = 0  # buffer length at the last check
        self.active = False
        self.checks = 0
        self.splits = 0

    def start(self, sample: int) -> None:
        self._chunks, self._n, self._start, self._checked, self.active = [], 0, sample, 0, True

    def stop(self) -> None:
        self.active = False
        self._chunks, self._n = [], 0

    def append(self, samples: np.ndarray) -> None:
        if not self.active or not len(samples):
            return
        self._chunks.append(samples)
        self._n += len(samples)
        # Only the window is ever looked at: older audio goes (an hour-long monologue stays small).
        keep = int(WINDOW_S * SAMPLE_RATE)
        if self._n > 2 * keep:
            buf = np.concatenate(self._chunks)[-keep:]
            self._start += self._n - len(buf)
            self._checked = max(0, self._checked - (self._n - len(buf)))
            self._chunks, self._n = [buf], len(buf)

    def check(self) -> int | None:
        """The stream sample where a new voice begins, or None (at most once per second of audio)."""
        if not self.active or self._n < MIN_UTTERANCE_S * SAMPLE_RATE:
            return None
        if self._n - self._checked < CHECK_EVERY_S * SAMPLE_RATE:
            return None
        self._checked = self._n
        buf = np.concatenate(self._chunks) if len(self._chunks) > 1 else self._chunks[0]
        self._chunks = [buf]
        window = buf[-int(WINDOW_S * SAMPLE_RATE):]
        offset = len(buf) - len(window)
        self.checks += 1
        at = self.segmenter.last_change(window)
        if at is None:
            return None
        cut = offset + int(at * SAMPLE_RATE)
        span = int(CONFIRM_S * SAMPLE_RATE)
        before, after = buf[max(0, cut - span):cut], buf[cut:cut + span]
        if float(self.encoder.embed(before) @ self.encoder.embed(after)) >= self.threshold:
            return None  # the segmentation heard two voices, the encoder one: no cut
        self.splits += 1
        sample = self._start + cut
        # The next utterance starts at the cut: keep its audio, forget the first voice's.
        tail = buf[cut:]
        self._chunks, self._n, self._start, self._checked = [tail], len(tail), sample, len(tail)
        return sample
