"""Sessions leave nothing behind: after many sessions end, none of their objects is alive and
the per-session native state (the VAD) is reused, not rebuilt."""

from __future__ import annotations

import asyncio
import gc

from rtt.client import RttClient
from rtt.config import load_config
from rtt.pipeline.options import SessionOptions
from rtt.pipeline.session import Session
from rtt.vad.energy import EnergyVad
from serve.sessions import ManagedSession
from tests.serve_fixtures import PlumbingEngine, plumbing_translator, start_server
from tests.speech_fixtures import plumbing_components


def live(kind: type) -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, kind))


async def test_many_sessions_reuse_one_vad_and_leave_no_session_alive() -> None:
    built: list[EnergyVad] = []

    def build() -> EnergyVad:
        built.append(EnergyVad())
        return built[-1]

    translator = plumbing_translator(load_config(), PlumbingEngine())
    components = plumbing_components(translator=translator)
    components.config = translator.config
    components._vad_factory = build
    before = live(Session)
    for _ in range(30):
        session = Session(components, SessionOptions(source_lang="es", target_lang="en"))
        await session.start()
        reader = asyncio.create_task(_drain(session))
        await session.push_text("hola a todos", final=True)
        await session.close(drain=True)
        await reader
    del session, reader
    assert len(built) == 1 and components.vads.idle == 1  # one detector served all 30
    assert live(Session) == before


async def _drain(session: Session) -> None:
    async for _ in session.events():
        pass


async def test_the_server_forgets_every_ended_session() -> None:
    srv = start_server()
    try:
        async with RttClient(srv.base_url, timeout_s=20) as client:
            for _ in range(40):
                async with client.realtime(source_lang="es", target_lang="en") as rt:
                    await rt.send_text("hola", final=True)
                    await rt.wait_for("final_translation")
                    await rt.end()
        assert srv.state.manager.sessions == {}
        assert live(ManagedSession) == 0
    finally:
        srv.stop()
