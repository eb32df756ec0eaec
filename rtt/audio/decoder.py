"""Turns wire payloads (PCM16LE at 8/16/24/48 kHz, Opus packets, or chunks of a WebM/Ogg Opus
stream) into 16 kHz float32."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from rtt.audio.container import DEMUXERS, Demuxer
from rtt.audio.pcm import PIPELINE_RATE, check_rate, decode_pcm16le
from rtt.audio.resample import StreamingResampler
from rtt.errors import InvalidInput

AudioFormat = Literal["pcm16le", "opus", "webm-opus", "ogg-opus"]
AUDIO_FORMATS: tuple[str, ...] = ("pcm16le", "opus", "webm-opus", "ogg-opus")


class OpusDecoder:
    """One raw Opus packet per call (no Ogg container), as WebRTC and browsers' encoders send them."""

    def __init__(self) -> None:
        import av

        self._av = av
        self._ctx: Any = av.CodecContext.create("libopus", "r")
        self._ctx.sample_rate = 48000
        self._ctx.layout = "mono"
        # FFmpeg's wrapper decodes at 48 kHz in s16 whatever is asked; its resampler keeps
        # state across packets, so a stream is converted without seams.
        self._resampler: Any = av.AudioResampler(format="flt", layout="mono", rate=PIPELINE_RATE)

    def decode(self, packet: bytes) -> np.ndarray:
        if not packet:
            return np.zeros(0, dtype=np.float32)
        try:
            frames = self._ctx.decode(self._av.Packet(bytes(packet)))
        except self._av.error.FFmpegError as exc:
            raise InvalidInput(f"invalid Opus packet ({exc})", code="INVALID_AUDIO") from exc
        out = [np.asarray(r.to_ndarray(), dtype=np.float32).reshape(-1)
               for f in frames for r in self._resampler.resample(f)]
        return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)


class ContainerDecoder:
    """Chunks of one WebM or Ogg Opus stream (as ``MediaRecorder`` cuts it): each chunk yields
    the audio of the packets it completes; the rest waits for the next chunk."""

    def __init__(self, demuxer: Demuxer) -> None:
        self._demuxer = demuxer
        self._opus = OpusDecoder()

    def decode(self, chunk: bytes) -> np.ndarray:
        out = [self._opus.decode(p) for p in self._demuxer.feed(chunk)]
        return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)


class AudioDecoder:
    """Stateful per-stream decoder: keeps the resampler's filter state between payloads."""

    def __init__(self, audio_format: str = "pcm16le", sample_rate: int = PIPELINE_RATE) -> None:
        if audio_format not in AUDIO_FORMATS:
            raise InvalidInput(
                f"audio format {audio_format!r} is not supported; use one of {', '.join(AUDIO_FORMATS)}",
                code="UNSUPPORTED_AUDIO_FORMAT",
                audio_format=audio_format,
            )
        self.audio_format = audio_format
        self.sample_rate = check_rate(sample_rate)
        self._opus: OpusDecoder | ContainerDecoder | None = None
        if audio_format == "opus":
            self._opus = OpusDecoder()
        elif audio_format in DEMUXERS:
            self._opus = ContainerDecoder(DEMUXERS[audio_format]())
        self._resampler = None if self._opus else StreamingResampler(sample_rate, PIPELINE_RATE)

    def decode(self, payload: bytes) -> np.ndarray:
        if self._opus is not None:
            return self._opus.decode(payload)
        assert self._resampler is not None
        return self._resampler.process(decode_pcm16le(payload))

    def flush(self) -> np.ndarray:
        if self._resampler is None:
            return np.zeros(0, dtype=np.float32)
        return self._resampler.flush()
