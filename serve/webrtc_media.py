"""The media of a WebRTC peer: the browser's microphone in, synthesized speech out.

aiortc decodes the browser's Opus into 20 ms ``AudioFrame``s (48 kHz, stereo as often as mono)
after its jitter buffer has put the RTP packets in order; :class:`MicrophoneChunker` makes
them the session's mono PCM16LE.  :class:`SpeechTrack` is the track the server sends back: the
session's ``tts_audio`` chunks in real time, silence between them (an RTP stream that stops
would make the browser's jitter buffer stall and then catch up).
"""

from __future__ import annotations

import asyncio
import fractions
import time

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av.audio.frame import AudioFrame


def _s16_mono(frames: list[AudioFrame]) -> bytes:
    # to_ndarray, not the plane's buffer: a plane may be padded past its samples.
    return b"".join(f.to_ndarray().astype("<i2", copy=False).tobytes() for f in frames)


class MicrophoneChunker:
    """Decoded frames in, mono PCM16LE chunks of ``chunk_ms`` at ``sample_rate`` out."""

    def __init__(self, sample_rate: int, chunk_ms: int) -> None:
        self.sample_rate = sample_rate
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=sample_rate)
        self._chunk_bytes = sample_rate * 2 * chunk_ms // 1000
        self._pending = bytearray()

    def push(self, frame: AudioFrame) -> list[bytes]:
        self._pending += _s16_mono(self._resampler.resample(frame))
        chunks = []
        n = self._chunk_bytes
        while len(self._pending) >= n:
            chunks.append(bytes(self._pending[:n]))
            del self._pending[:n]
        return chunks

    def flush(self) -> bytes:
        """What is left when the track ends (the resampler's tail included)."""
        self._pending += _s16_mono(self._resampler.resample(None))
        rest, self._pending = bytes(self._pending), bytearray()
        return rest


class SpeechTrack(MediaStreamTrack):
    """An outgoing audio track: queued speech, else silence, in 20 ms frames at 48 kHz mono."""

    kind = "audio"
    RATE = 48000
    FRAME_SAMPLES = 960  # 20 ms, the Opus frame aiortc packetizes

    def __init__(self, max_queued_s: float = 120.0) -> None:
        super().__init__()
        self._queued = bytearray()
        self._max_queued = int(max_queued_s * self.RATE) * 2
        # One resampler per synthesizer rate, kept across chunks so that their joins are seamless.
        self._resamplers: dict[int, av.AudioResampler] = {}
        self._time_base = fractions.Fraction(1, self.RATE)
        self._started: float | None = None
        self._pts = 0

    @property
    def queued_s(self) -> float:
        return len(self._queued) / 2 / self.RATE

    def play(self, pcm16: bytes, sample_rate: int) -> None:
        """Queue one synthesized chunk (PCM16LE mono at ``sample_rate``) after what is queued."""
        if not pcm16:
            return
        samples = np.frombuffer(pcm16[: len(pcm16) // 2 * 2], dtype="<i2")
        frame = AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = sample_rate
        resampler = self._resamplers.get(sample_rate)
        if resampler is None:
            resampler = self._resamplers[sample_rate] = av.AudioResampler(format="s16", layout="mono",
                                                                           rate=self.RATE)
        self._queued += _s16_mono(resampler.resample(frame))
        if len(self._queued) > self._max_queued:
            # A listener cannot hear faster than real time; past this the oldest speech is stale.
            del self._queued[: len(self._queued) - self._max_queued]

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        now = time.monotonic()
        if self._started is None:
            self._started = now
        else:
            self._pts += self.FRAME_SAMPLES
            wait = self._started + self._pts / self.RATE - now
            if wait > 0:
                await asyncio.sleep(wait)
        n = self.FRAME_SAMPLES * 2
        chunk = bytes(self._queued[:n]).ljust(n, b"\x00")
        del self._queued[:n]
        frame = AudioFrame.from_ndarray(np.frombuffer(chunk, dtype="<i2").reshape(1, -1), format="s16",
                                        layout="mono")
        frame.sample_rate = self.RATE
        frame.pts = self._pts
        frame.time_base = self._time_base
        return frame
