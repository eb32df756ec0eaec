"""The TTS protocol and the chunking shared by every engine."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class TtsEngine(Protocol):
    name: str
    sample_rate: int

    def supports(self, lang: str) -> bool: ...

    def synthesize(self, text: str, lang: str) -> Iterator[np.ndarray]:
        """Mono int16 audio, yielded piece by piece (a sentence at a time) as it is made."""
        ...

    def prewarm(self, lang: str) -> None:
        """Load the voice and run it once so that the first request pays no start-up cost."""
        ...


def chunk_pcm(pieces: Iterator[np.ndarray], sample_rate: int, chunk_ms: int) -> Iterator[bytes]:
    """Re-cut synthesized pieces into ``chunk_ms`` PCM16LE chunks (the last may be shorter)."""
    size = max(1, sample_rate * chunk_ms // 1000)
    rest = np.zeros(0, dtype=np.int16)
    for piece in pieces:
        buf = np.concatenate([rest, np.asarray(piece, dtype=np.int16)])
        n = len(buf) // size
        for i in range(n):
            yield buf[i * size : (i + 1) * size].astype("<i2").tobytes()
        rest = buf[n * size :]
    if len(rest):
        yield rest.astype("<i2").tobytes()
