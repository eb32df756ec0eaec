"""Stream a recording through a live session: start it, consume its events, push the audio in
chunks at a pace, close it with a drain.

The speech benchmark, the session evaluation runner, ``rtt speech-translate`` and the service's
REST clips all feed recorded audio to a :class:`rtt.pipeline.session.Session` this way; they
differ only in the chunk size, the pace and what they read from the events afterwards.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from rtt.audio.pcm import PIPELINE_RATE, encode_pcm16le
from rtt.pipeline.events import Event

__all__ = ["DrivenSession", "Push", "SessionRun", "drive_session"]


class DrivenSession(Protocol):
    """What the driver uses of the Session contract (docs/session-api.md)."""

    async def start(self) -> None: ...

    async def push_audio(self, data: bytes) -> None: ...

    async def commit(self) -> None: ...

    def events(self) -> AsyncIterator[Event]: ...

    async def close(self, drain: bool = True) -> None: ...


@dataclass(frozen=True)
class Push:
    at_ms: float  # the clock once the chunk was handed to the session
    audio_ms: float  # audio pushed by then, from the start of the stream (trailing silence included)


@dataclass
class SessionRun:
    events: list[Event] = field(default_factory=list)  # in the order the session emitted them
    pushes: list[Push] = field(default_factory=list)  # one per chunk
    end_ms: float = 0.0  # the clock after the last chunk and its pacing, before the drain

    def audio_pushed_by(self, t_ms: float) -> float:
        """Milliseconds of audio the session had been given at clock time ``t_ms``."""
        k = bisect.bisect_right([p.at_ms for p in self.pushes], t_ms)
        return self.pushes[k - 1].audio_ms if k else 0.0

    def pushed_at(self, audio_ms: float) -> float:
        """The clock time at which the chunk holding audio position ``audio_ms`` was pushed."""
        if not self.pushes:
            return 0.0
        k = bisect.bisect_right([p.audio_ms for p in self.pushes], audio_ms)
        return self.pushes[min(k, len(self.pushes) - 1)].at_ms


async def drive_session(
    session: DrivenSession,
    audio: np.ndarray | bytes,
    *,
    chunk_ms: int = 100,
    realtime: bool = False,
    trailing_silence_s: float = 0.0,
    commit: bool = False,
    sample_rate: int = PIPELINE_RATE,
    clock: Callable[[], float] | None = None,
    on_event: Callable[[Event], None] | None = None,
) -> SessionRun:
    """Stream ``audio`` through ``session`` and return every event it emitted until closed.

    ``audio``: float32 samples or PCM16LE bytes, mono at ``sample_rate`` (the rate the session
    was opened with).  ``realtime`` paces the chunks like a microphone; otherwise they go as
    fast as the event loop takes them.  ``trailing_silence_s`` of zeros follow the audio, so a
    VAD endpoint comes as it would live.  ``commit`` ends the utterance in progress after the
    last chunk.  ``clock`` (milliseconds; pass ``session.now_ms`` to compare the pushes with the
    events' ``at_ms``) times the pushes, by default from the first push.  ``on_event`` sees each
    event as it arrives.

    The session is started here (``start`` is idempotent: a caller that must handle a refused
    start starts it first) and always closed with a drain, even when a push fails.
    """
    pcm = encode_pcm16le(audio) if isinstance(audio, np.ndarray) else bytes(audio)
    pcm += b"\x00\x00" * int(trailing_silence_s * sample_rate)
    run = SessionRun()
    if clock is None:
        t_start = time.monotonic()
        clock = lambda: (time.monotonic() - t_start) * 1000.0  # noqa: E731
    await session.start()

    async def consume() -> None:
        async for event in session.events():
            run.events.append(event)
            if on_event is not None:
                on_event(event)

    consumer = asyncio.create_task(consume())
    step = sample_rate * chunk_ms // 1000 * 2  # bytes per chunk
    try:
        t0 = time.monotonic()
        for i, offset in enumerate(range(0, len(pcm), step)):
            await session.push_audio(pcm[offset : offset + step])
            run.pushes.append(Push(clock(), min(len(pcm), offset + step) // 2 / sample_rate * 1000))
            if realtime:
                # Due times from the stream start, not a sleep per chunk: the time spent pushing
                # must not add up into a stream slower than the speaker.
                await asyncio.sleep(max(0.0, t0 + (i + 1) * chunk_ms / 1000 - time.monotonic()))
            else:
                await asyncio.sleep(0)  # let the stages take each chunk, as they would live
        run.end_ms = clock()
        if commit:
            await session.commit()
    finally:
        await session.close(drain=True)
        await consumer
    return run
