"""Turns per-frame speech probabilities into utterances.

Hysteresis (a lower threshold to stay in speech than to enter it) keeps short dips inside a
word from splitting it.  An utterance ends after ``min_silence_ms`` of continuous silence, or
is cut near ``max_utterance_s`` so that ASR windows stay bounded; a stream that has been silent
for ``silence_timeout_s`` gets one :class:`SilenceTimeout` (the session decides what to do).

Long speech is not cut at an arbitrary frame: in the last ``CUT_SEARCH_S`` before the limit the
first weak frame (below the start threshold: most often a gap between words) ends the
utterance, and only speech without any such dip is cut at the limit itself.  Either way the next
utterance starts with the ``speech_pad_ms`` of audio before the cut (as an onset gets its
pre-roll), so a word at the cut is heard whole at least once; the ASR stage's context prompt
joins the two texts.

Positions are sample indices of the 16 kHz stream.  The endpointer also owns the audio that
belongs to the current utterance: a pre-roll of ``speech_pad_ms`` before the detected start
(onsets are quiet) and everything up to the endpoint.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from rtt.audio.pcm import PIPELINE_RATE
from rtt.config import VadConfig


@dataclass(frozen=True)
class SegmentStart:
    start_sample: int  # first sample of the utterance, pre-roll included
    detected_sample: int  # end of the frame that triggered the start


@dataclass(frozen=True)
class SegmentAudio:
    samples: np.ndarray  # audio appended to the current utterance


@dataclass(frozen=True)
class SegmentEnd:
    end_sample: int  # the endpoint decision (end of the last frame consumed)
    speech_end_sample: int  # end of the last voiced frame, plus padding
    reason: str  # "silence" | "max_length" | "flush"


@dataclass(frozen=True)
class SilenceTimeout:
    at_sample: int
    silent_s: float


EndpointEvent = SegmentStart | SegmentAudio | SegmentEnd | SilenceTimeout

CUT_SEARCH_S = 3.0  # how far before max_utterance_s a weak frame may end a long utterance


class Endpointer:
    def __init__(
        self,
        config: VadConfig,
        frame_samples: int,
        sample_rate: int = PIPELINE_RATE,
        min_speech_frames: int = 2,
    ) -> None:
        self.config = config
        self.frame_samples = frame_samples
        self.sample_rate = sample_rate
        self.on_threshold = config.threshold
        self.off_threshold = max(0.05, config.threshold - 0.15)
        self.min_speech_frames = max(1, min_speech_frames)
        ms_per_frame = 1000 * frame_samples / sample_rate
        self.silence_frames_to_end = max(1, int(round(config.min_silence_ms / ms_per_frame)))
        self.pad_frames = int(round(config.speech_pad_ms / ms_per_frame))
        self.max_frames = int(config.max_utterance_s * 1000 / ms_per_frame)
        self.cut_from_frames = self.max_frames - min(int(CUT_SEARCH_S * 1000 / ms_per_frame), self.max_frames // 3)
        self.timeout_frames = int(config.silence_timeout_s * 1000 / ms_per_frame) if config.silence_timeout_s else 0
        self.reset()

    def reset(self) -> None:
        self.position = 0  # samples consumed
        self.in_speech = False
        self._preroll: deque[np.ndarray] = deque(maxlen=self.pad_frames + self.min_speech_frames)
        self._recent: deque[np.ndarray] = deque(maxlen=max(1, self.pad_frames))  # the overlap after a cut
        self._candidate = 0  # consecutive voiced frames while idle
        self._silent_run = 0  # consecutive unvoiced frames while in speech
        self._utt_frames = 0
        self._last_voiced_end = 0
        self._idle_frames = 0
        self._timeout_sent = False

    def process(self, frame: np.ndarray, probability: float) -> list[EndpointEvent]:
        self.position += len(frame)
        if self.in_speech:
            return self._in_speech(frame, probability)
        return self._idle(frame, probability)

    def _idle(self, frame: np.ndarray, p: float) -> list[EndpointEvent]:
        self._preroll.append(frame)
        if p >= self.on_threshold:
            self._candidate += 1
        else:
            self._candidate = 0
        if self._candidate < self.min_speech_frames:
            self._idle_frames += 1
            if self.timeout_frames and self._idle_frames >= self.timeout_frames and not self._timeout_sent:
                self._timeout_sent = True
                return [SilenceTimeout(self.position, self._idle_frames * self.frame_samples / self.sample_rate)]
            return []
        audio = np.concatenate(list(self._preroll))
        self._preroll.clear()
        self.in_speech = True
        self._candidate = 0
        self._silent_run = 0
        self._idle_frames = 0
        self._timeout_sent = False
        self._utt_frames = len(audio) // self.frame_samples
        self._last_voiced_end = self.position
        return [SegmentStart(self.position - len(audio), self.position), SegmentAudio(audio)]

    def _in_speech(self, frame: np.ndarray, p: float) -> list[EndpointEvent]:
        events: list[EndpointEvent] = [SegmentAudio(frame)]
        self._utt_frames += 1
        self._recent.append(frame)
        if p >= self.off_threshold:
            self._silent_run = 0
            self._last_voiced_end = self.position
        else:
            self._silent_run += 1
        if self._silent_run >= self.silence_frames_to_end:
            events.append(self._end("silence"))
        elif self._utt_frames >= self.max_frames or (self._utt_frames >= self.cut_from_frames
                                                      and p < self.on_threshold):
            going_on = self._silent_run == 0
            overlap = list(self._recent)
            events.append(self._end("max_length"))
            # The audio just before the cut is the next utterance's pre-roll; when speech goes
            # on past the cut, the next frame opens that utterance at once.
            self._preroll.extend(overlap)
            if going_on:
                self._candidate = self.min_speech_frames - 1
        return events

    def _end(self, reason: str) -> SegmentEnd:
        pad = self.pad_frames * self.frame_samples
        speech_end = min(self.position, self._last_voiced_end + pad)
        self.in_speech = False
        self._silent_run = 0
        self._utt_frames = 0
        self._idle_frames = 0
        return SegmentEnd(self.position, speech_end, reason)

    @property
    def trailing_silence_ms(self) -> float:
        """Silence since the last voiced frame of the open utterance (0 outside speech)."""
        if not self.in_speech:
            return 0.0
        return 1000.0 * self._silent_run * self.frame_samples / self.sample_rate

    def flush(self) -> list[EndpointEvent]:
        """End of stream: close an open utterance."""
        if not self.in_speech:
            return []
        return [self._end("flush")]
