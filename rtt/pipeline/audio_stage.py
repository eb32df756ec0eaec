"""Stage 1: decoded audio -> VAD frames -> utterances (runs the detector in a worker thread)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rtt.audio.framing import Framer
from rtt.audio.pcm import PIPELINE_RATE
from rtt.config import VadConfig
from rtt.diarization.change import SpeakerChangeDetector
from rtt.errors import RttError
from rtt.pipeline.events import Event, Notice, SpeechStarted, SpeechStopped
from rtt.pipeline.timeline import CaptureTimeline
from rtt.pipeline.utterance import Utterance
from rtt.tracing import span
from rtt.vad.base import Vad
from rtt.vad.endpointer import (
    Endpointer,
    EndpointEvent,
    SegmentAudio,
    SegmentEnd,
    SegmentStart,
    SilenceTimeout,
)

log = logging.getLogger("rtt.pipeline")

MAX_PENDING_CHUNKS = 2000  # ~40 s of 20 ms packets


@dataclass(frozen=True)
class AudioChunk:
    samples: np.ndarray  # 16 kHz float32


@dataclass(frozen=True)
class Control:
    kind: str  # "commit" | "end"


@dataclass(frozen=True)
class SpeakerChange:
    """Another voice takes over at this stream sample (rtt/diarization/change.py)."""

    sample: int


class _Manual:
    """No VAD: everything between commits is one utterance (push-to-talk clients)."""

    def __init__(self, max_samples: int) -> None:
        self.max_samples = max_samples
        self.position = 0
        self.in_speech = False
        self._utt = 0

    def process(self, samples: np.ndarray) -> list[EndpointEvent]:
        events: list[EndpointEvent] = []
        if not self.in_speech:
            self.in_speech = True
            self._utt = 0
            events.append(SegmentStart(self.position, self.position))
        self.position += len(samples)
        self._utt += len(samples)
        events.append(SegmentAudio(samples))
        if self._utt >= self.max_samples:
            events.extend(self.flush("max_length"))
        return events

    def flush(self, reason: str = "flush") -> list[EndpointEvent]:
        if not self.in_speech:
            return []
        self.in_speech = False
        return [SegmentEnd(self.position, self.position, reason)]


class AudioStage:
    def __init__(
        self,
        vad: Vad | None,
        config: VadConfig,
        *,
        now_ms: Callable[[], float],
        emit: Callable[[Event], None],
        next_utterance_id: Callable[[], int],
        timeline: CaptureTimeline,
        tag: str,
        change_detector: SpeakerChangeDetector | None = None,
    ) -> None:
        """``change_detector``: cut utterances where the voice changes (diarization)."""
        self.change_detector = change_detector
        # Bounded: a stalled detector must not grow memory without limit (see offer()).
        self.queue: asyncio.Queue[AudioChunk | Control] = asyncio.Queue(maxsize=MAX_PENDING_CHUNKS)
        self.dropped_chunks = 0
        self.vad = vad
        self.now_ms = now_ms
        self.emit = emit
        self.next_utterance_id = next_utterance_id
        self.timeline = timeline
        self.tag = tag
        self.utterances: asyncio.Queue[Utterance | None] = asyncio.Queue()
        self.current: Utterance | None = None
        if vad is not None:
            self._framer: Framer | None = Framer(vad.frame_samples)
            self._endpointer: Endpointer | _Manual = Endpointer(config, vad.frame_samples, vad.sample_rate)
        else:
            self._framer = None
            self._endpointer = _Manual(int(min(config.max_utterance_s, 30.0) * PIPELINE_RATE))
        self.frames = 0

    def offer(self, item: AudioChunk | Control) -> None:
        """Queue without blocking the caller; when full, the oldest audio goes (recent audio matters more)."""
        if self.queue.full():
            pending = self.queue._queue  # type: ignore[attr-defined]  # asyncio.Queue's deque
            oldest = next((i for i, old in enumerate(pending) if isinstance(old, AudioChunk)), None)
            if oldest is None:  # only controls pending (cannot happen with sane clients)
                raise RttError("session overloaded", "OVERLOADED", retry_after_ms=1000)
            del pending[oldest]
            self.dropped_chunks += 1
            if self.dropped_chunks == 1:
                self.emit(Notice("AUDIO_OVERLOAD", "audio arrives faster than it can be processed; "
                                 "the oldest audio is being dropped", self.now_ms()))
        self.queue.put_nowait(item)

    # -- worker-thread part --------------------------------------------------------------------
    def _detect(self, samples: np.ndarray) -> list[EndpointEvent | SpeakerChange]:
        if self._framer is None or self.vad is None:
            assert isinstance(self._endpointer, _Manual)
            return self._speaker_changes(list(self._endpointer.process(samples)))
        out: list[EndpointEvent | SpeakerChange] = []
        ep = self._endpointer
        assert isinstance(ep, Endpointer)
        for frame in self._framer.push(samples):
            self.frames += 1
            out.extend(ep.process(frame, self.vad.probability(frame)))
        return self._speaker_changes(out)

    def _speaker_changes(self, events: list[EndpointEvent | SpeakerChange]) -> list[EndpointEvent | SpeakerChange]:
        detector = self.change_detector
        if detector is None:
            return events
        out: list[EndpointEvent | SpeakerChange] = []
        for e in events:
            out.append(e)
            if isinstance(e, SegmentStart):
                detector.start(e.start_sample)
            elif isinstance(e, SegmentEnd):
                detector.stop()
            elif isinstance(e, SegmentAudio):
                # Checked after each piece of audio, so a burst of audio is cut where it changes
                # voice (the change goes in front of the audio that follows it).
                detector.append(e.samples)
                try:
                    change = detector.check()
                except Exception:  # a failing detector must not stop the audio: no cut this time
                    log.exception("%s speaker change detection failed", self.tag)
                    change = None
                if change is not None:
                    out.append(SpeakerChange(change))
        return out

    def _flush(self, reason: str) -> list[EndpointEvent | SpeakerChange]:
        events: list[EndpointEvent | SpeakerChange] = []
        if self._framer is not None and self.vad is not None and reason == "end":
            assert isinstance(self._endpointer, Endpointer)
            for frame in self._framer.flush():
                events.extend(self._endpointer.process(frame, self.vad.probability(frame)))
        ends = self._endpointer.flush()
        events += [SegmentEnd(e.end_sample, e.speech_end_sample, reason) if isinstance(e, SegmentEnd) else e
                   for e in ends]
        return self._speaker_changes(events)

    # -- event loop part -------------------------------------------------------------------------
    async def run(self) -> None:
        while True:
            item = await self.queue.get()
            batch: list[AudioChunk] = []
            control: Control | None = None
            if isinstance(item, Control):
                control = item
            else:
                batch.append(item)
                # Coalesce what is already waiting: one thread hop per burst, not per packet.
                while not self.queue.empty() and len(batch) < 50:
                    nxt = self.queue.get_nowait()
                    if isinstance(nxt, Control):
                        control = nxt
                        break
                    batch.append(nxt)
            if batch:
                samples = np.concatenate([c.samples for c in batch])
                events = await asyncio.to_thread(self._detect, samples)
                self._apply(events)
                if self.current is not None and isinstance(self._endpointer, Endpointer):
                    silence = self._endpointer.trailing_silence_ms
                    if silence != self.current.trailing_silence_ms:
                        self.current.trailing_silence_ms = silence
                        self.current.changed.set()
            if control is not None:
                events = await asyncio.to_thread(self._flush, "commit" if control.kind == "commit" else "end")
                self._apply(events)
                if control.kind == "end":
                    await self.utterances.put(None)
                    return

    def _apply(self, events: list[EndpointEvent | SpeakerChange]) -> None:
        for e in events:
            if isinstance(e, SpeakerChange):
                self._split(e.sample)
                continue
            if isinstance(e, SegmentStart):
                now = self.now_ms()
                onset = self.timeline.arrival_ms(e.start_sample + 1)
                utt = Utterance(self.next_utterance_id(), e.start_sample, now, onset if onset is not None else now)
                self.current = utt
                self.emit(SpeechStarted(utt.id, now))
                log.debug("%s utt=%d speech started at sample %d", self.tag, utt.id, e.start_sample)
                self.utterances.put_nowait(utt)
            elif isinstance(e, SegmentAudio):
                if self.current is not None:
                    self.current.append(e.samples)
            elif isinstance(e, SegmentEnd):
                ending = self.current
                if ending is None:
                    continue
                utt = ending
                now = self.now_ms()
                utt.speech_end_capture_ms = self.timeline.arrival_ms(e.speech_end_sample)
                utt.endpoint_capture_ms = self.timeline.arrival_ms(e.end_sample)
                utt.end(e.reason, e.speech_end_sample - utt.start_sample, now)
                with span("rtt.vad.endpoint", utterance_id=utt.id, reason=e.reason,
                          speech_s=round(utt.speech_end_samples / PIPELINE_RATE, 3)):
                    pass  # an instant on the session's trace: where the utterance ended and why
                self.current = None
                self.emit(SpeechStopped(utt.id, now))
                log.debug("%s utt=%d endpoint (%s) at sample %d", self.tag, utt.id, e.reason, e.end_sample)
            elif isinstance(e, SilenceTimeout):
                self.emit(Notice("SILENCE_TIMEOUT", f"no speech for {e.silent_s:.0f} s", self.now_ms()))

    def _split(self, sample: int) -> None:
        """End the open utterance at ``sample``; what follows starts the next one."""
        ending = self.current
        if ending is None or not ending.start_sample < sample < ending.start_sample + ending.n_samples:
            return
        cut = sample - ending.start_sample
        tail = ending.audio()[cut:].copy()
        now = self.now_ms()
        ending.speech_end_capture_ms = self.timeline.arrival_ms(sample)
        ending.endpoint_capture_ms = ending.speech_end_capture_ms
        ending.end("speaker_change", cut, now)
        self.emit(SpeechStopped(ending.id, now))
        onset = self.timeline.arrival_ms(sample + 1)
        utt = Utterance(self.next_utterance_id(), sample, now, onset if onset is not None else now)
        utt.append(tail)
        self.current = utt
        self.emit(SpeechStarted(utt.id, now))
        log.debug("%s utt=%d ended at a change of speaker; utt=%d starts at sample %d", self.tag, ending.id,
                  utt.id, sample)
        self.utterances.put_nowait(utt)
