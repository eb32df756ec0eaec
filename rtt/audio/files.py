"""Decode an audio file (ogg/opus, flac, wav, mp3, ...) to 16 kHz mono float32 with PyAV."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rtt.audio.pcm import PIPELINE_RATE
from rtt.errors import InvalidInput


def load_audio_file(path: str | Path, sample_rate: int = PIPELINE_RATE) -> np.ndarray:
    """The whole file as mono float32 at ``sample_rate``; an empty array for a file without samples."""
    import av  # faster-whisper depends on PyAV; imported lazily so text-only use never loads FFmpeg

    p = Path(path)
    if not p.is_file():
        raise InvalidInput(f"audio file {str(p)!r} does not exist", code="AUDIO_NOT_FOUND", path=str(p))
    try:
        container = av.open(str(p), mode="r")
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{p.name} is not a readable audio file ({exc})", code="INVALID_AUDIO", path=str(p)) from exc
    chunks: list[np.ndarray] = []
    try:
        if not container.streams.audio:
            raise InvalidInput(f"{p.name} has no audio stream", code="INVALID_AUDIO", path=str(p))
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        for frame in container.decode(stream):
            frame.pts = None  # the resampler only needs sample order; broken timestamps must not stop it
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    except av.error.FFmpegError as exc:
        raise InvalidInput(f"{p.name}: audio could not be decoded ({exc})", code="INVALID_AUDIO", path=str(p)) from exc
    finally:
        container.close()
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate(chunks).astype(np.float32, copy=False)
