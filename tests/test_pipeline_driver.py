"""``rtt.pipeline.driver.drive_session``: chunking, pacing, commit/close, the push log."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import numpy as np
import pytest

from rtt.audio.pcm import encode_pcm16le
from rtt.errors import InvalidInput
from rtt.pipeline import events as ev
from rtt.pipeline.driver import Push, SessionRun, drive_session
from rtt.pipeline.session import Session, SessionOptions
from tests.speech_fixtures import FakeTranslator, ScriptedAsr, plumbing_components, silence, tone


class RecordingSession:
    """Emits one Notice per chunk it is given; ``fail_at`` refuses that chunk."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.calls: list[str] = []
        self.chunks: list[bytes] = []
        self.fail_at = fail_at
        self._queue: asyncio.Queue[ev.Event | None] = asyncio.Queue()

    def now_ms(self) -> float:
        return 1000.0 + len(self.chunks)

    async def start(self) -> None:
        self.calls.append("start")

    async def push_audio(self, data: bytes) -> None:
        if len(self.chunks) == self.fail_at:
            raise InvalidInput("refused", code="INVALID_AUDIO")
        self.chunks.append(data)
        self._queue.put_nowait(ev.Notice("CHUNK", str(len(data)), self.now_ms()))

    async def commit(self) -> None:
        self.calls.append("commit")

    async def events(self) -> AsyncIterator[ev.Event]:
        while (event := await self._queue.get()) is not None:
            yield event

    async def close(self, drain: bool = True) -> None:
        self.calls.append(f"close(drain={drain})")
        self._queue.put_nowait(None)


async def test_float_audio_goes_as_pcm16_chunks_then_trailing_silence() -> None:
    audio = tone(0.35)
    session = RecordingSession()
    seen: list[ev.Event] = []
    run = await drive_session(session, audio, chunk_ms=100, trailing_silence_s=0.2, commit=True,
                              clock=session.now_ms, on_event=seen.append)
    assert session.calls == ["start", "commit", "close(drain=True)"]
    assert b"".join(session.chunks) == encode_pcm16le(audio) + bytes(2 * 3200)
    assert [len(c) for c in session.chunks] == [3200] * 5 + [1600]
    assert [p.audio_ms for p in run.pushes] == pytest.approx([100, 200, 300, 400, 500, 550])
    assert [p.at_ms for p in run.pushes] == [1001, 1002, 1003, 1004, 1005, 1006]
    assert run.end_ms == 1006
    assert run.events == seen and len(seen) == 6


async def test_pcm_bytes_pass_through_in_the_chunk_size_asked() -> None:
    pcm = encode_pcm16le(tone(1.2))
    session = RecordingSession()
    run = await drive_session(session, pcm, chunk_ms=500)
    assert session.chunks == [pcm[:16000], pcm[16000:32000], pcm[32000:]]
    assert session.calls == ["start", "close(drain=True)"]
    assert [p.audio_ms for p in run.pushes] == pytest.approx([500, 1000, 1200])


async def test_a_refused_push_still_closes_the_session() -> None:
    session = RecordingSession(fail_at=2)
    with pytest.raises(InvalidInput):
        await drive_session(session, tone(1.0))
    assert session.calls == ["start", "close(drain=True)"] and len(session.chunks) == 2


async def test_realtime_paces_like_a_microphone() -> None:
    t = time.monotonic()
    await drive_session(RecordingSession(), tone(0.3), chunk_ms=50, realtime=True)
    assert time.monotonic() - t >= 0.28
    t = time.monotonic()
    await drive_session(RecordingSession(), tone(3.0), chunk_ms=50)
    assert time.monotonic() - t < 1.0


def test_push_log_lookups() -> None:
    run = SessionRun(pushes=[Push(10.0, 100.0), Push(20.0, 200.0), Push(30.0, 250.0)])
    assert [run.audio_pushed_by(t) for t in (5.0, 10.0, 19.9, 20.0, 99.0)] == [0.0, 100.0, 100.0, 200.0, 250.0]
    # the chunk holding each audio position
    assert [run.pushed_at(a) for a in (-50.0, 0.0, 99.9, 100.0, 240.0, 900.0)] == [10.0, 10.0, 10.0, 20.0, 30.0, 30.0]
    assert SessionRun().pushed_at(10.0) == 0.0 and SessionRun().audio_pushed_by(10.0) == 0.0


async def test_drives_a_real_session_to_its_final_translation() -> None:
    components = plumbing_components(asr=ScriptedAsr("uno dos tres cuatro"), translator=FakeTranslator(),
                                     min_silence_ms=300)
    session = Session(components, SessionOptions(source_lang="es", target_lang="en"))
    run = await drive_session(session, np.concatenate([silence(0.3), tone(1.5)]), trailing_silence_s=0.8,
                              clock=session.now_ms)
    finals = [e for e in run.events if isinstance(e, ev.FinalTranslation)]
    assert len(finals) == 1 and finals[0].text
    assert run.pushes[-1].audio_ms == pytest.approx(2600)
    assert all(a.at_ms <= b.at_ms for a, b in zip(run.pushes, run.pushes[1:], strict=False))
