"""Hostile or broken input gets a structured 4xx / error message, never a 500, a hang or a
silent close, and the session stays usable (plumbing backend, real sockets)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import grpc
import httpx
import pytest
from websockets.asyncio.client import connect

from rtt.client import RttClient
from serve.grpc_gen import realtime_pb2 as pb
from serve.grpc_gen import realtime_pb2_grpc as pb_grpc
from tests.serve_fixtures import start_server

DEEP = "[" * 5000 + "]" * 5000
DEEP_OBJECT = '{"a":' * 3000 + "1" + "}" * 3000
SURROGATE = '{"text": "hola \\ud800", "source_lang": "es", "target_lang": "en"}'


@pytest.fixture(scope="module")
def server():
    srv = start_server()
    yield srv
    srv.stop()


def assert_service_error(resp: httpx.Response, status: int, code: str | None = None) -> None:
    assert resp.status_code == status, (resp.status_code, resp.text)
    body = resp.json()
    assert set(body) == {"error"} and body["error"]["code"], body
    if code is not None:
        assert body["error"]["code"] == code, body


@pytest.mark.parametrize("path", ["/v1/translate", "/translate", "/v1/sessions", "/v1/tokens"])
@pytest.mark.parametrize("payload", [DEEP, DEEP_OBJECT])
def test_deeply_nested_json_is_a_400_in_the_service_shape(server, path, payload):
    resp = httpx.post(server.base_url + path, content=payload, headers={"Content-Type": "application/json"})
    if path == "/translate":  # LibreTranslate's own error shape
        assert resp.status_code == 400 and "error" in resp.json(), resp.text
        return
    if path == "/v1/tokens":  # no keys configured: tokens are refused before the body matters
        assert resp.status_code in (400, 403) and set(resp.json()) == {"error"}, resp.text
        return
    assert_service_error(resp, 400)


def test_deeply_nested_session_input_is_a_400(server):
    sid = httpx.post(server.base_url + "/v1/sessions", json={"source_lang": "es", "target_lang": "en"}).json()
    resp = httpx.post(f"{server.base_url}/v1/sessions/{sid['session_id']}/input", content=DEEP,
                      headers={"Content-Type": "application/json"})
    assert_service_error(resp, 400, "MALFORMED_JSON")
    ok = httpx.post(f"{server.base_url}/v1/sessions/{sid['session_id']}/input",
                    json={"type": "input_text", "text": "hola", "final": True})
    assert ok.status_code == 200 and ok.json()["results"][0]["accepted"]


@pytest.mark.parametrize("path", ["/v1/translate", "/translate"])
def test_a_lone_surrogate_is_refused_cleanly(server, path):
    body = SURROGATE if path == "/v1/translate" else SURROGATE.replace('"text"', '"q"').replace(
        "source_lang", "source").replace("target_lang", "target")
    resp = httpx.post(server.base_url + path, content=body, headers={"Content-Type": "application/json"})
    assert resp.status_code == 400, resp.text
    assert "surrogate" in resp.text.lower() or "unicode" in resp.text.lower()


async def test_a_lone_surrogate_over_websocket_is_an_error_and_the_session_goes_on(server):
    async with RttClient(server.base_url, timeout_s=20) as client, \
            client.realtime(source_lang="es", target_lang="en") as rt:
        await rt.send_raw('{"type": "input_text", "text": "hola \\ud800", "final": true}')
        err = await rt.wait_for("error")
        assert err.code == "INVALID_INPUT" and "surrogate" in err.message
        await rt.send_text("gracias", final=True)
        assert (await rt.wait_for("final_translation")).text == "[en] thanks"
        await rt.end()


async def test_deeply_nested_websocket_message_is_an_error_frame(server):
    async with RttClient(server.base_url, timeout_s=20) as client, \
            client.realtime(source_lang="es", target_lang="en") as rt:
        await rt.send_raw(DEEP)
        err = await rt.wait_for("error")
        assert err.code == "MALFORMED_JSON"
        await rt.send_raw('{"type": "control", "action": "set_dictionary", "dictionary": ' + DEEP_OBJECT + "}")
        err = await rt.wait_for("error")
        assert err.code in ("MALFORMED_JSON", "INVALID_GLOSSARY")
        await rt.send_text("gracias", final=True)
        assert (await rt.wait_for("final_translation")).text == "[en] thanks"
        await rt.end()


@pytest.mark.parametrize("path", ["/v1/transcribe", "/v1/speech-translate?target_lang=en"])
def test_a_multipart_form_without_a_file_part(server, path):
    resp = httpx.post(server.base_url + path, files={"other": ("x.txt", b"abc", "text/plain")})
    assert_service_error(resp, 400, "MISSING_FIELD")
    assert "file" in resp.json()["error"]["message"]


async def _grpc_exchange(target: str, messages: list[Any], timeout_s: float = 10.0) -> list[Any]:
    async with grpc.aio.insecure_channel(target) as channel:
        stub = pb_grpc.RealtimeTranslateStub(channel)

        async def requests() -> Any:
            for m in messages:
                yield m
                await asyncio.sleep(0.05)

        out = []
        async for reply in stub.Stream(requests(), timeout=timeout_s):
            out.append(reply)
        return out


async def test_grpc_oversized_seq_and_deep_json_get_errors_and_the_stream_goes_on(server):
    hello = pb.ClientMessage(hello=pb.Hello(source_lang="es", target_lang="en"))
    messages = [
        hello,
        pb.ClientMessage(seq=2**63, has_seq=True, text=pb.Text(text="hola", final=True)),
        pb.ClientMessage(control=pb.Control(action="set_dictionary", dictionary_json=DEEP_OBJECT)),
        pb.ClientMessage(control=pb.Control(action="ping")),
        pb.ClientMessage(text=pb.Text(text="gracias", final=True)),
    ]
    replies = await _grpc_exchange(server.grpc_target, messages)
    kinds = [r.WhichOneof("kind") for r in replies]
    errors = [r.error for r in replies if r.WhichOneof("kind") == "error"]
    assert [e.code for e in errors] == ["INVALID_FIELD", "INVALID_GLOSSARY"], errors
    assert "pong" in kinds and kinds[-1] == "ended"
    finals = [r.translation.text for r in replies if r.WhichOneof("kind") == "translation" and r.translation.is_final]
    assert finals == ["[en] thanks"]


async def test_grpc_deep_glossary_in_hello(server):
    hello = pb.ClientMessage(hello=pb.Hello(source_lang="es", target_lang="en", glossary_json=DEEP_OBJECT))
    replies = await _grpc_exchange(server.grpc_target, [hello])
    assert replies and replies[0].WhichOneof("kind") == "error" and replies[0].error.code == "INVALID_GLOSSARY"


async def test_invalid_utf8_closes_with_1007_without_a_traceback(server, caplog):
    async with connect(server.ws_url) as ws:
        await ws.send(json.dumps({"type": "hello", "source_lang": "es", "target_lang": "en"}))
        await ws.recv()
        # a text frame whose payload is not UTF-8 (sent raw: the library would refuse to encode it)
        await ws.send(b"\xff\xfe{", text=True)
        with pytest.raises(Exception):  # noqa: B017 - the close arrives as ConnectionClosed
            for _ in range(5):
                await ws.recv()
        assert ws.close_code == 1007
    await asyncio.sleep(0.2)
    # The WebSocket's loggers (uvicorn's, the service's); the gRPC poller of the same loop logs
    # BlockingIOError tracebacks of its own on asyncio's logger, unrelated to this frame.
    mine = [r for r in caplog.records if r.name.startswith(("uvicorn", "serve"))]
    assert not [r for r in mine if r.exc_info], [r.getMessage() for r in mine]
    assert any("Invalid UTF-8" in r.getMessage() and r.levelname == "WARNING" for r in mine)
