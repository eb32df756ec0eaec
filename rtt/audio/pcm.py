"""Raw PCM16LE on the wire <-> float32 samples."""

from __future__ import annotations

import numpy as np

from rtt.errors import InvalidInput

PIPELINE_RATE = 16000
SUPPORTED_RATES: tuple[int, ...] = (8000, 16000, 24000, 48000)


def check_rate(sample_rate: int) -> int:
    if sample_rate not in SUPPORTED_RATES:
        raise InvalidInput(
            f"sample rate {sample_rate} Hz is not supported; use one of {', '.join(map(str, SUPPORTED_RATES))}",
            code="UNSUPPORTED_AUDIO_FORMAT",
            sample_rate=sample_rate,
        )
    return sample_rate


def decode_pcm16le(data: bytes | bytearray | memoryview) -> np.ndarray:
    """Mono little-endian 16-bit samples -> float32 in [-1, 1)."""
    buf = bytes(data)
    if len(buf) % 2:
        raise InvalidInput(
            f"PCM16 payload has an odd number of bytes ({len(buf)}); frames must hold whole samples",
            code="INVALID_AUDIO",
            bytes=len(buf),
        )
    return np.frombuffer(buf, dtype="<i2").astype(np.float32) / 32768.0


def encode_pcm16le(samples: np.ndarray) -> bytes:
    clipped = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 32767 / 32768)
    return (clipped * 32768.0).astype("<i2").tobytes()
