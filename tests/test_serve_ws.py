"""WebSocket /v1/realtime over real sockets (plumbing backend: see tests/serve_fixtures.py)."""

from __future__ import annotations

import asyncio
import base64
import json
import time

import pytest
from websockets.asyncio.client import connect

from rtt.client import RttClient
from tests.serve_fixtures import pcm_silence, pcm_tone, running_server, serve_settings, start_server


@pytest.fixture(scope="module")
def server():
    # Many tests drop connections without ending: those sessions wait out the resume grace.
    srv = start_server(settings=serve_settings(limits={"concurrent_sessions": 200},
                                               timeouts={"resume_grace_s": 2.0}))
    yield srv
    srv.stop()


@pytest.fixture()
async def client(server):
    async with RttClient(server.base_url, timeout_s=20) as c:
        yield c


def abort(ws) -> None:
    """Drop the TCP connection without a closing handshake (a network failure)."""
    ws.transport.abort()


async def assert_usable(rt) -> None:
    """The session still works after an error: a sentence gets its final translation."""
    await rt.send_text("gracias", final=True)
    final = await rt.wait_for("final_translation")
    assert final.text.endswith("thanks")


async def test_text_session_partials_and_final(client):
    async with client.realtime(source_lang="es", target_lang="en") as rt:
        assert rt.created.session_id.startswith("s_") and rt.created.version == 1
        assert rt.created.limits.max_message_bytes > 0
        await rt.send_text("hola a todos")
        ack = await rt.wait_for("ack")
        assert ack.seq == 0 and not ack.duplicate
        partial = await rt.wait_for("partial_translation")
        assert partial.committed == "[en] hello" and partial.tentative == "a todos"
        await rt.send_text("y buenas tardes", final=True)
        final = await rt.wait_for("final_translation")
        assert final.text == "[en] hello to everyone and good afternoon"
        assert final.source_text == "hola a todos y buenas tardes"
        assert set(final.latency_ms) >= {"mt", "endpoint_to_final"}
        tail = await rt.end()
        assert tail[-1].type == "session.ended" and tail[-1].reason == "client_end"


async def test_audio_json_and_binary_frames(client, server):
    async with client.realtime(source_lang="es", target_lang="en") as rt:
        speech = pcm_tone(1.0)
        for i in range(0, len(speech), 3200):  # 100 ms frames as base64 JSON
            await rt.send_audio(speech[i:i + 3200])
        await rt.wait_for("speech_started")
        partial = await rt.wait_for("partial_asr")
        assert partial.text.startswith("hola")
        quiet = pcm_silence(0.5)
        for i in range(0, len(quiet), 3200):  # binary frames
            await rt.send_audio(quiet[i:i + 3200], binary=True)
        final_asr = await rt.wait_for("final_asr")
        final = await rt.wait_for("final_translation", utterance_id=final_asr.utterance_id)
        assert final.text.startswith("[en] hello") and final.latency_ms["endpoint_to_final"] >= 0
        await rt.end()
    session = server.backend.sessions[-1]
    assert session.audio_bytes == len(speech) + len(quiet)
    assert final_asr.words is None  # not asked for: no alignment cost, no field


async def test_word_timestamps_on_request(client, server):
    async with client.realtime(source_lang="es", target_lang="en",
                               features={"word_timestamps": True}) as rt:
        for pcm in (pcm_tone(1.0), pcm_silence(0.5)):
            for i in range(0, len(pcm), 3200):
                await rt.send_audio(pcm[i:i + 3200], binary=True)
        final_asr = await rt.wait_for("final_asr")
        assert final_asr.words is not None
        assert [w.text for w in final_asr.words] == final_asr.text.split()
        assert final_asr.words[1].start_ms == 500.0 and final_asr.words[1].probability == 0.9
        await rt.end()
    assert server.backend.sessions[-1].spec.word_timestamps


async def test_ping_pong_and_controls(client, server):
    async with client.realtime(source_lang="es", target_lang="en", glossary={"hello": "hi"}) as rt:
        before = time.time()
        pong = await rt.ping()
        assert pong.server_time >= before - 1 and pong.client_time is not None
        await rt.control("set_target_lang", target_lang="de")
        await rt.control("set_dictionary", dictionary={"thanks": "cheers"})
        await rt.send_text("gracias", final=True)
        final = await rt.wait_for("final_translation")
        assert final.text == "[de] cheers" and final.target_lang == "de"
        await rt.control("pause")
        await rt.send_audio(pcm_tone(0.5))
        await rt.control("resume")
        await rt.send_text("hola")
        await rt.control("commit")
        final = await rt.wait_for("final_translation")
        assert final.text == "[de] hello"
        await rt.end()
    assert server.backend.sessions[-1].audio_bytes == 0  # paused audio was not processed


async def _raw_session(server, **hello):
    ws = await connect(server.ws_url, max_size=None)
    await ws.send(json.dumps({"type": "hello", "source_lang": "es", "target_lang": "en", **hello}))
    created = json.loads(await ws.recv())
    assert created["type"] == "session.created", created
    return ws


async def _next_error(ws, timeout=10.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.monotonic()))
        if msg["type"] == "error":
            return msg


async def _still_usable(ws) -> None:
    await ws.send(json.dumps({"type": "input_text", "text": "gracias", "final": True}))
    deadline = time.monotonic() + 10
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.monotonic()))
        if msg["type"] == "final_translation":
            assert msg["text"] == "[en] thanks"
            return


BAD_FRAMES = [
    ("{not json", "MALFORMED_JSON"),
    ("[1, 2]", "INVALID_MESSAGE"),
    ('{"type": "teleport"}', "UNKNOWN_TYPE"),
    ('{"text": "no type"}', "MISSING_FIELD"),
    ('{"type": "input_text"}', "MISSING_FIELD"),
    ('{"type": "input_text", "text": 42}', "INVALID_FIELD"),
    ('{"type": "input_text", "text": "a", "seq": "7"}', "INVALID_FIELD"),
    ('{"type": "input_audio", "audio": "%%%not-base64%%%"}', "INVALID_AUDIO"),
    ('{"type": "input_audio", "audio": "' + base64.b64encode(b"\x01\x02\x03").decode() + '"}', "INVALID_AUDIO"),
    ('{"type": "input_audio", "audio": ""}', "INVALID_AUDIO"),
    ('{"type": "control", "action": "explode"}', "INVALID_FIELD"),
    ('{"type": "control", "action": "set_target_lang", "target_lang": "xx"}', "UNSUPPORTED_LANGUAGE"),
    ('{"type": "control", "action": "set_target_lang"}', "MISSING_FIELD"),
    ('{"type": "control", "action": "set_dictionary", "dictionary": ["a"]}', "INVALID_GLOSSARY"),
    ('{"type": "control", "action": "set_dictionary", "dictionary": {"a": 1}}', "INVALID_GLOSSARY"),
    ('{"type": "input_text", "text": "' + "x" * 5001 + '"}', "TEXT_TOO_LONG"),
    ('{"type": "input_text", "text": "   "}', "EMPTY_TEXT"),
    ('{"type": "hello", "target_lang": "en"}', "ALREADY_STARTED"),
    ('{"type": "input_text", "text": "__raise__"}', "INVALID_INPUT"),
    ('{"type": "input_text", "text": "__crash__"}', "INTERNAL"),
]


@pytest.mark.parametrize(("frame", "code"), BAD_FRAMES, ids=[c for _, c in BAD_FRAMES])
async def test_bad_input_gets_structured_error_and_session_survives(server, frame, code):
    ws = await _raw_session(server)
    try:
        await ws.send(frame)
        err = await _next_error(ws)
        assert err["code"] == code, err
        assert err["message"] and err.get("fatal") is not True
        await _still_usable(ws)
    finally:
        await ws.close()


async def test_binary_garbage_and_oversize(server):
    ws = await _raw_session(server)
    try:
        await ws.send(b"\x07\x00\x01")  # odd-length PCM
        assert (await _next_error(ws))["code"] == "INVALID_AUDIO"
        await ws.send(b"\x00" * 200_000)  # over max_audio_frame_bytes
        assert (await _next_error(ws))["code"] == "FRAME_TOO_LARGE"
        await ws.send(json.dumps({"type": "input_text", "text": "a" * 2_000_000}))  # over max_message_bytes
        assert (await _next_error(ws))["code"] == "FRAME_TOO_LARGE"
        await _still_usable(ws)
    finally:
        await ws.close()


async def test_opus_garbage_is_rejected(server):
    ws = await _raw_session(server, audio={"encoding": "opus", "sample_rate": 48000})
    try:
        await ws.send(bytes([0x03]))  # code 3 packet without a frame count
        assert (await _next_error(ws))["code"] == "INVALID_AUDIO"
        await _still_usable(ws)
    finally:
        await ws.close()


@pytest.mark.parametrize(
    ("hello", "code"),
    [
        ({"target_lang": "xx"}, "UNSUPPORTED_LANGUAGE"),
        ({"source_lang": "klingon", "target_lang": "en"}, "UNSUPPORTED_LANGUAGE"),
        ({"source_lang": "en", "target_lang": "en"}, "UNSUPPORTED_LANGUAGE"),
        ({}, "MISSING_FIELD"),
        ({"target_lang": "en", "audio": {"sample_rate": 44100}}, "UNSUPPORTED_AUDIO_FORMAT"),
        ({"target_lang": "en", "audio": {"encoding": "mp3"}}, "UNSUPPORTED_AUDIO_FORMAT"),
        ({"target_lang": "en", "audio": {"channels": 2}}, "UNSUPPORTED_AUDIO_FORMAT"),
        ({"target_lang": "en", "glossary": "not an object"}, "INVALID_GLOSSARY"),
        ({"target_lang": "en", "policy": "wait-zero"}, "INVALID_INPUT"),
        ({"target_lang": "en", "version": 99}, "UNSUPPORTED_VERSION"),
        ({"session_id": "s_doesnotexist"}, "NOT_FOUND"),
    ],
)
async def test_bad_hello_then_good_hello(server, hello, code):
    async with connect(server.ws_url) as ws:
        await ws.send(json.dumps({"type": "hello", **hello}))
        err = json.loads(await ws.recv())
        assert err["type"] == "error" and err["code"] == code, err
        await ws.send(json.dumps({"type": "hello", "source_lang": "es", "target_lang": "en"}))
        assert json.loads(await ws.recv())["type"] == "session.created"
        await _still_usable(ws)


async def test_messages_before_hello(server):
    async with connect(server.ws_url) as ws:
        await ws.send(json.dumps({"type": "input_text", "text": "hola", "seq": 3}))
        err = json.loads(await ws.recv())
        assert err["code"] == "HELLO_REQUIRED" and err["seq"] == 3
        await ws.send(b"\x00\x00")
        assert json.loads(await ws.recv())["code"] == "HELLO_REQUIRED"
        await ws.send(json.dumps({"type": "control", "action": "ping"}))
        assert json.loads(await ws.recv())["code"] == "HELLO_REQUIRED"


async def test_repeated_and_out_of_order_seq(client, server):
    async with client.realtime(source_lang="es", target_lang="en") as rt:
        await rt.send_text("hola", seq=5)
        assert (await rt.wait_for("ack", seq=5)).duplicate is False
        await rt.send_text("hola", seq=5)  # a retry
        assert (await rt.wait_for("ack", seq=5)).duplicate is True
        await rt.send_text("mundo", seq=7)
        await rt.wait_for("ack", seq=7)
        await rt.send_text("tarde", seq=6)  # lower than 7, never seen
        err = await rt.wait_for("error")
        assert err.code == "SEQ_OUT_OF_ORDER" and err.seq == 6
        await rt.send_text("", final=True, seq=8)
        final = await rt.wait_for("final_translation")
        assert final.source_text == "hola mundo"  # each processed exactly once
        await rt.end()
    assert server.backend.sessions[-1].texts == ["hola", "mundo", ""]


async def test_reconnect_resumes_session_with_same_seq(server):
    async with RttClient(server.base_url, timeout_s=20) as client:
        rt = await client.realtime(source_lang="es", target_lang="en").connect()
        sid = rt.session_id
        await rt.send_text("hola", seq=0)
        await rt.send_text("mundo", seq=1)
        await rt.wait_for("ack", seq=1)
        abort(rt.ws)
        await asyncio.sleep(0.2)
        # Reconnect: the client did not see the ack for seq 1 and sends it again.
        rt2 = await client.resume(sid).connect()
        assert rt2.created.resumed and rt2.created.session_id == sid and rt2.created.last_seq == 1
        await rt2.send_text("mundo", seq=1)
        assert (await rt2.wait_for("ack", seq=1)).duplicate is True
        await rt2.send_text("gracias", final=True, seq=2)
        final = await rt2.wait_for("final_translation")
        assert final.source_text == "hola mundo gracias"
        await rt2.end()
        await rt2.close()
    session = next(s for s in server.backend.sessions if s.texts[:1] == ["hola"] and "gracias" in s.texts)
    assert session.texts == ["hola", "mundo", "gracias"]


async def test_finals_produced_while_disconnected_are_delivered_on_resume():
    with running_server(backend=_slow_finals(0.5)) as srv:
        async with RttClient(srv.base_url, timeout_s=20) as client:
            rt = await client.realtime(source_lang="es", target_lang="en").connect()
            await rt.send_text("hola mundo", final=True)
            await rt.wait_for("ack")
            await rt.close()  # the final is still being computed
            await asyncio.sleep(1.0)
            rt2 = await client.resume(rt.session_id).connect()
            final = await rt2.wait_for("final_translation")
            assert final.text == "[en] hello world"
            await rt2.end()
            await rt2.close()


def _slow_finals(delay: float):
    from tests.serve_fixtures import PlumbingBackend

    return PlumbingBackend(final_delay_s=delay)


async def test_closed_mid_utterance_is_cleaned_up():
    settings = serve_settings(timeouts={"resume_grace_s": 0.3})
    with running_server(settings=settings) as srv:
        ws = await _raw_session(srv)
        await ws.send(pcm_tone(0.6))  # speech in progress
        await asyncio.sleep(0.1)
        abort(ws)
        deadline = time.monotonic() + 10
        while srv.state.manager.sessions and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert not srv.state.manager.sessions
        # The concurrent-session slot was released and the server still serves new sessions.
        async with RttClient(srv.base_url) as client, client.realtime(source_lang="es", target_lang="en") as rt:
            await assert_usable(rt)


async def test_idle_timeout_closes_cleanly():
    settings = serve_settings(timeouts={"idle_s": 0.5})
    with running_server(settings=settings) as srv:
        async with RttClient(srv.base_url) as client, client.realtime(source_lang="es", target_lang="en") as rt:
            err = await rt.wait_for("error", timeout_s=10)
            assert err.code == "IDLE_TIMEOUT" and err.fatal
            ended = await rt.wait_for("session.ended")
            assert ended.reason == "idle_timeout"


async def test_silence_timeout_closes_cleanly():
    settings = serve_settings(timeouts={"silence_s": 0.6, "idle_s": 30})
    with running_server(settings=settings) as srv:
        async with RttClient(srv.base_url) as client, client.realtime(source_lang="es", target_lang="en") as rt:
            for _ in range(5):  # audio keeps arriving, but nobody speaks
                await rt.send_audio(pcm_silence(0.1), binary=True)
                await asyncio.sleep(0.1)
            err = await rt.wait_for("error", timeout_s=10)
            assert err.code == "SILENCE_TIMEOUT"
            assert (await rt.wait_for("session.ended")).reason == "silence_timeout"


async def test_hello_timeout():
    settings = serve_settings(timeouts={"hello_s": 0.3})
    with running_server(settings=settings) as srv:
        async with connect(srv.ws_url) as ws:
            err = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert err["code"] == "IDLE_TIMEOUT" and err["fatal"] is True
            await asyncio.wait_for(ws.wait_closed(), 5)
            assert ws.close_code == 4408


async def test_partial_results_off(client):
    async with client.realtime(source_lang="es", target_lang="en", features={"partial_results": False}) as rt:
        await rt.send_text("hola a todos", final=True)
        await rt.wait_for("final_translation")
        await rt.end()
        assert not [m for m in rt.received if m.type == "partial_translation"]


async def test_real_opus_packets_pass_validation_and_are_counted(server):
    import av

    from tests.serve_fixtures import SHARED_DATA

    clip = SHARED_DATA / "fleurs" / "fleurs-es-006.ogg"
    if not clip.exists():
        pytest.skip("FLEURS clips are not in ../shared/data")
    with av.open(str(clip)) as container:
        packets = [bytes(p) for p in container.demux(audio=0) if p.size]
        duration = float(container.duration) / 1e6
    before = server.state.metrics.audio_seconds._value.get()
    async with RttClient(server.base_url) as client, \
            client.realtime(source_lang="es", target_lang="en", audio={"encoding": "opus", "sample_rate": 48000}) as rt:
        for packet in packets:
            await rt.send_audio(packet, binary=True)
        await rt.control("commit")
        tail = await rt.end()
    assert not [m for m in rt.received if m.type == "error"]
    assert any(m.type == "final_translation" for m in tail + rt.received)
    counted = server.state.metrics.audio_seconds._value.get() - before
    assert abs(counted - duration) < 0.1, (counted, duration)  # durations read from the Opus TOC bytes


async def test_tts_audio_is_delivered(client):
    async with client.realtime(source_lang="es", target_lang="en", features={"tts": True}) as rt:
        await rt.send_text("gracias", final=True)
        await rt.wait_for("final_translation")
        chunks = [await rt.wait_for("tts_audio") for _ in range(2)]
        await rt.end()
    assert [c.chunk_index for c in chunks] == [0, 1] and [c.is_last for c in chunks] == [False, True]
    pcm = base64.b64decode(chunks[0].audio)
    assert chunks[0].sample_rate == 22050 and chunks[0].encoding == "pcm16le" and len(pcm) == 2 * 2205


def _masked_text_frame(payload: bytes) -> bytes:
    import os
    import struct

    mask = os.urandom(4)
    n = len(payload)
    header = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack("!H", n))
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def test_heartbeat_frees_a_session_whose_client_stopped_answering_pings():
    """A peer that vanished without closing (a raw socket that never answers the server's pings)
    is disconnected by the heartbeat, and its session is freed after the resume grace period."""
    import os
    import socket

    settings = serve_settings(timeouts={"heartbeat_interval_s": 0.3, "heartbeat_timeout_s": 0.3,
                                        "resume_grace_s": 0.2, "idle_s": 60})
    with running_server(settings=settings) as srv:
        host, port = srv.base_url.removeprefix("http://").split(":")
        sock = socket.create_connection((host, int(port)), timeout=10)
        try:
            key = base64.b64encode(os.urandom(16)).decode()
            sock.sendall((f"GET /v1/realtime HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                          f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
                         .encode())
            assert sock.recv(4096).startswith(b"HTTP/1.1 101")
            sock.sendall(_masked_text_frame(json.dumps(
                {"type": "hello", "source_lang": "es", "target_lang": "en"}).encode()))
            deadline = time.monotonic() + 10
            while not srv.state.manager.sessions and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert len(srv.state.manager.sessions) == 1
            # From here on the client reads nothing and answers no ping.
            deadline = time.monotonic() + 15
            while srv.state.manager.sessions and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            assert not srv.state.manager.sessions, "the dead peer's session was not freed"
        finally:
            sock.close()
        async with RttClient(srv.base_url) as client, client.realtime(source_lang="es", target_lang="en") as rt:
            await assert_usable(rt)
