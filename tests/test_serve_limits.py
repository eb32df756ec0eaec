"""Per-key limits (in-process and across processes with Redis), backpressure, graceful shutdown."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import time

import httpx
import pytest
from websockets.asyncio.client import connect

from rtt.client import RttApiError, RttClient
from tests.serve_fixtures import (
    PlumbingBackend,
    pcm_tone,
    running_server,
    serve_settings,
    start_server,
    wait_for_fresh_rate_window,
)


def test_requests_per_minute_gives_429_with_retry_after():
    wait_for_fresh_rate_window()
    with running_server(settings=serve_settings(limits={"requests_per_minute": 3})) as srv:
        body = {"text": "hola", "target_lang": "en"}
        codes = [httpx.post(f"{srv.base_url}/v1/translate", json=body).status_code for _ in range(3)]
        assert codes == [200, 200, 200]
        r = httpx.post(f"{srv.base_url}/v1/translate", json=body)
        assert r.status_code == 429
        err = r.json()["error"]
        assert err["code"] == "RATE_LIMIT" and 0 < err["retry_after_ms"] <= 60_000
        assert 1 <= int(r.headers["Retry-After"]) <= 60
        r = httpx.post(f"{srv.base_url}/translate", json={"q": "hola", "source": "es", "target": "en"})
        assert r.status_code == 429 and "Retry-After" in r.headers  # LibreTranslate surface too


async def test_concurrent_sessions_per_key():
    with running_server(settings=serve_settings(limits={"concurrent_sessions": 2})) as srv:
        async with RttClient(srv.base_url) as client:
            a = await client.realtime(source_lang="es", target_lang="en").connect()
            b = await client.realtime(source_lang="es", target_lang="en").connect()
            with pytest.raises(RttApiError) as exc:
                await client.realtime(source_lang="es", target_lang="en").connect()
            assert exc.value.code == "RATE_LIMIT" and exc.value.retry_after_ms
            await a.end()
            await a.close()
            c = await client.realtime(source_lang="es", target_lang="en").connect()  # a slot is free again
            for rt in (b, c):
                await rt.end()
                await rt.close()


async def test_audio_seconds_per_minute():
    wait_for_fresh_rate_window()
    with running_server(settings=serve_settings(limits={"audio_seconds_per_minute": 1.0})) as srv:
        async with RttClient(srv.base_url) as client, client.realtime(source_lang="es", target_lang="en") as rt:
            await rt.send_audio(pcm_tone(0.6), seq=0)
            assert (await rt.wait_for("ack", seq=0)).duplicate is False
            await rt.send_audio(pcm_tone(0.6), seq=1)
            err = await rt.wait_for("error")
            assert err.code == "RATE_LIMIT" and err.seq == 1 and err.retry_after_ms > 0 and not err.fatal
            await rt.send_text("gracias", final=True, seq=2)  # the session is still usable
            assert (await rt.wait_for("final_translation")).text == "[en] thanks"
            await rt.end()
        assert srv.backend.sessions[-1].audio_bytes == len(pcm_tone(0.6))  # the refused frame was not processed


async def test_drain_when_client_sends_too_fast():
    backend = PlumbingBackend(push_delay_s=0.1)
    with running_server(backend=backend, settings=serve_settings(sizes={"input_queue": 4})) as srv:
        async with RttClient(srv.base_url) as client, client.realtime(source_lang="es", target_lang="en") as rt:
            for _ in range(12):
                await rt.send_text("hola")
            drain = await rt.wait_for("drain", timeout_s=20)
            assert drain.retry_after_ms > 0 and drain.queue_depth >= 3
            await rt.send_text("", final=True)
            final = await rt.wait_for("final_translation", timeout_s=20)
            assert final.source_text == " ".join(["hola"] * 12)  # nothing lost
            await rt.end()


async def test_slow_client_does_not_block_others():
    settings = serve_settings(sizes={"output_queue": 16, "max_message_bytes": 4_000_000},
                              limits={"requests_per_minute": 10_000})
    with running_server(settings=settings) as srv:
        slow = await connect(srv.ws_url, max_queue=1, max_size=None)  # reads almost nothing
        await slow.send(json.dumps({"type": "hello", "source_lang": "es", "target_lang": "en"}))
        words = " ".join(["palabra"] * 600)

        async def flood() -> None:
            for _ in range(150):
                await slow.send(json.dumps({"type": "input_text", "text": words}))
            await slow.send(json.dumps({"type": "input_text", "text": "", "final": True}))

        flooding = asyncio.create_task(flood())
        await asyncio.sleep(1.0)
        t0 = time.monotonic()
        async with RttClient(srv.base_url) as client, client.realtime(source_lang="es", target_lang="en") as rt:
            await rt.send_text("gracias", final=True)
            assert (await rt.wait_for("final_translation", timeout_s=10)).text == "[en] thanks"
            await rt.end()
        other_s = time.monotonic() - t0
        # Now the slow client reads: partials were dropped for it, its final was not.
        types: list[str] = []
        while "final_translation" not in types:
            types.append(json.loads(await asyncio.wait_for(slow.recv(), 30))["type"])
        await flooding
        await slow.close()
        assert types.count("partial_translation") < 150
        metrics = httpx.get(f"{srv.base_url}/metrics").text
        dropped = next(float(line.split()[-1]) for line in metrics.splitlines()
                       if line.startswith("rtt_partials_dropped_total"))
        assert dropped > 0
        assert other_s < 10


async def test_graceful_shutdown_delivers_finals_in_flight():
    srv = start_server(backend=PlumbingBackend(final_delay_s=1.5))
    async with RttClient(srv.base_url) as client:
        rt = await client.realtime(source_lang="es", target_lang="en").connect()
        await rt.send_text("hola mundo", final=True)
        await rt.wait_for("ack")
        stopper = asyncio.get_running_loop().run_in_executor(None, srv.stop)
        seen = [m async for m in rt.messages()]
        await stopper
    types = [m.type for m in seen]
    assert "final_translation" in types, types
    final = next(m for m in seen if m.type == "final_translation")
    assert final.text == "[en] hello world"
    ended = next(m for m in seen if m.type == "session.ended")
    assert ended.reason == "shutdown" and types.index("final_translation") < types.index("session.ended")
    assert any(m.type == "error" and m.code == "SHUTTING_DOWN" for m in seen)


# -- limits across processes: Redis ------------------------------------------------------------


@pytest.fixture(scope="module")
def redis_url():
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install -y redis-server)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)


async def test_limits_hold_across_server_processes_with_redis(redis_url):
    wait_for_fresh_rate_window()
    settings = serve_settings(redis_url=redis_url, redis_prefix=f"t{time.time_ns()}:",
                              limits={"concurrent_sessions": 1, "requests_per_minute": 5})
    # Two independent servers (as two worker processes would be) sharing one Redis.
    with running_server(settings=settings) as one, running_server(settings=settings) as two:
        async with RttClient(one.base_url) as c1, RttClient(two.base_url) as c2:
            a = await c1.realtime(source_lang="es", target_lang="en").connect()  # request 1
            with pytest.raises(RttApiError) as exc:
                await c2.realtime(source_lang="es", target_lang="en").connect()  # request 2
            assert exc.value.code == "RATE_LIMIT"
            await a.end()
            await a.close()
            b = await c2.realtime(source_lang="es", target_lang="en").connect()  # request 3
            await b.end()
            await b.close()
            body = {"text": "hola", "target_lang": "en"}
            assert httpx.post(f"{one.base_url}/v1/translate", json=body).status_code == 200  # 4
            assert httpx.post(f"{two.base_url}/v1/translate", json=body).status_code == 200  # 5
            r = httpx.post(f"{one.base_url}/v1/translate", json=body)
            assert r.status_code == 429 and r.json()["error"]["code"] == "RATE_LIMIT"


_CHILD = """
import json, sys
from tests.serve_fixtures import serve_settings, start_server
settings = serve_settings(**json.loads(sys.argv[1]))
srv = start_server(settings=settings)
print(srv.base_url, flush=True)
sys.stdin.read()  # runs until the parent closes our stdin
srv.stop()
"""


def _server_process(settings: dict) -> tuple[subprocess.Popen, str]:
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, json.dumps(settings)], cwd=repo, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    assert url.startswith("http://"), "the server process did not start"
    return proc, url


def test_limits_hold_across_os_processes_with_redis(redis_url):
    """The same limits with the two servers in two OS processes, as ``uvicorn --workers 2`` or
    two containers would run them: nothing is shared but Redis."""
    settings = {"redis_url": redis_url, "redis_prefix": f"p{time.time_ns()}:",
                "limits": {"requests_per_minute": 3}}
    procs = [_server_process(settings) for _ in range(2)]
    try:
        (_, one), (_, two) = procs
        wait_for_fresh_rate_window()  # after the (slow) process starts: the 4 requests share a minute
        body = {"text": "hola", "target_lang": "en"}
        codes = [httpx.post(f"{url}/v1/translate", json=body, timeout=30).status_code
                 for url in (one, two, one, two)]
        assert codes[:3] == [200, 200, 200] and codes[3] == 429
    finally:
        for proc, _ in procs:
            assert proc.stdin is not None
            proc.stdin.close()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()

