"""A connection dropped in each window around a final: the resumed client gets it exactly once.

The plumbing session holds every final back behind a gate, so the test decides when the final
is produced relative to the drop: before it, after the server wrote it to the socket but before
the client read it (the race a busy machine loses), and after the client read it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from rtt.client import RttClient
from tests.serve_fixtures import PlumbingBackend, serve_settings, start_server


@pytest.fixture()
def gated() -> Any:
    gate = threading.Event()
    srv = start_server(backend=PlumbingBackend(final_gate=gate),
                       settings=serve_settings(timeouts={"resume_grace_s": 30.0}))
    yield srv, gate
    gate.set()
    srv.stop()


def managed(srv: Any, session_id: str) -> Any:
    return srv.state.manager.sessions[session_id]


async def wait_until(condition: Any, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)


def finals_of(stream: Any) -> list[str]:
    return [m.text for m in stream.received if m.type == "final_translation"]


async def resume_and_collect(client: RttClient, sid: str, last_event_id: int | None) -> Any:
    rt2 = await client.resume(sid, last_event_id=last_event_id).connect()
    await rt2.send_text("gracias", final=True)  # a later sentence marks the end of what is due
    await rt2.wait_for("final_translation", text="[en] thanks")
    await rt2.end()
    return rt2


async def test_drop_before_the_final_is_produced(gated):
    srv, gate = gated
    async with RttClient(srv.base_url, timeout_s=20) as client:
        rt = await client.realtime(source_lang="es", target_lang="en").connect()
        await rt.send_text("hola mundo", final=True)
        await rt.wait_for("ack")
        rt.ws.transport.abort()
        await wait_until(lambda: not managed(srv, rt.session_id).attached)
        gate.set()  # produced while nobody is attached
        rt2 = await resume_and_collect(client, rt.session_id, rt.last_event_id)
    assert finals_of(rt) == []
    assert finals_of(rt2) == ["[en] hello world", "[en] thanks"]


async def test_drop_after_the_final_was_written_but_not_read(gated):
    srv, gate = gated
    async with RttClient(srv.base_url, timeout_s=20) as client:
        rt = await client.realtime(source_lang="es", target_lang="en").connect()
        await rt.send_text("hola mundo", final=True)
        await rt.wait_for("ack")
        gate.set()
        m = managed(srv, rt.session_id)
        # The server wrote the final to this connection; the client never read it.
        await wait_until(lambda: m.outbox.unacknowledged() == 1)
        rt.ws.transport.abort()
        rt2 = await resume_and_collect(client, rt.session_id, rt.last_event_id)
    assert finals_of(rt) == []
    assert rt2.created.replayed == 1
    assert finals_of(rt2) == ["[en] hello world", "[en] thanks"]


async def test_drop_after_the_final_was_read(gated):
    srv, gate = gated
    gate.set()
    async with RttClient(srv.base_url, timeout_s=20) as client:
        rt = await client.realtime(source_lang="es", target_lang="en").connect()
        await rt.send_text("hola mundo", final=True)
        await rt.wait_for("final_translation")
        rt.ws.transport.abort()
        rt2 = await resume_and_collect(client, rt.session_id, rt.last_event_id)
    assert finals_of(rt) == ["[en] hello world"]
    assert rt2.created.replayed == 0
    assert finals_of(rt2) == ["[en] thanks"]  # not sent twice


async def test_acknowledged_finals_are_not_kept(gated):
    srv, gate = gated
    gate.set()
    async with RttClient(srv.base_url, timeout_s=20) as client, \
            client.realtime(source_lang="es", target_lang="en") as rt:
        await rt.send_text("hola", final=True)
        final = await rt.wait_for("final_translation")
        m = managed(srv, rt.session_id)
        await wait_until(lambda: m.outbox.unacknowledged() == 1)
        await rt.control("ack", event_id=final.event_id)
        await wait_until(lambda: m.outbox.unacknowledged() == 0)
        await rt.end()
