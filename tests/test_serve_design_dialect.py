"""The design article's dialect (``version: "2026-05-01"``) over a real socket (plumbing backend).

The messages are the article's, byte for byte where it gives them; version 1 keeps its own
tests (tests/test_serve_ws.py), untouched.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from rtt.protocol import DESIGN_VERSION
from tests.serve_fixtures import pcm_silence, pcm_tone, start_server

KEY = "design-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
HELLO = {"type": "hello", "version": "2026-05-01",
         "session": {"source_lang": "es", "target_lang": "en", "tts_voice": "en-US-female-1",
                     "features": ["vad", "partial_results"]}}


@pytest.fixture(scope="module")
def server():
    srv = start_server(environ={"RTT_API_KEYS": KEY})
    yield srv
    srv.stop()


async def _recv_until(ws: Any, kind: str, limit: int = 200) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    for _ in range(limit):
        msg = json.loads(await ws.recv(decode=True))
        seen.append(msg)
        if msg["type"] == kind:
            return seen
    raise AssertionError(f"no {kind}: {[m['type'] for m in seen]}")


def _url(server: Any, query: str = "target_lang=en") -> str:
    return f"{server.ws_url}?{query}"


async def test_the_design_hello_audio_and_commit_give_captions(server):
    async with connect(_url(server), additional_headers=AUTH) as ws:
        await ws.send(json.dumps(HELLO))
        created = json.loads(await ws.recv(decode=True))
        assert created["type"] == "session.created" and created["version"] == DESIGN_VERSION
        assert created["features"] == ["vad", "partial_results"] and created["ignored_features"] == []
        speech = pcm_tone(1.0) + pcm_silence(0.1)
        for seq, i in enumerate(range(0, len(speech), 3200), start=10):
            await ws.send(json.dumps({"type": "input_audio", "seq": seq, "format": "pcm16le",
                                      "sample_rate": 16000, "data": base64.b64encode(speech[i:i + 3200]).decode()}))
        last_seq = seq
        await ws.send(json.dumps({"type": "control", "action": "commit"}))  # no seq, as the design writes it
        seen = await _recv_until(ws, "final_translation")
    kinds = [m["type"] for m in seen]
    assert "partial_asr" in kinds and "final_asr" in kinds and "error" not in kinds, kinds
    final = seen[-1]
    assert final["text"].startswith("[en] hello")
    # seq: the last input seq the output accounts for (the commit carried none)
    assert final["seq"] == last_seq
    assert all(m["seq"] <= last_seq for m in seen if m["type"] in ("partial_asr", "final_asr"))


async def test_input_text_and_outputs_without_client_seqs(server):
    async with connect(_url(server), additional_headers=AUTH) as ws:
        await ws.send(json.dumps(HELLO))
        await _recv_until(ws, "session.created")
        await ws.send(json.dumps({"type": "input_text", "text": "hola a todos"}))
        await ws.send(json.dumps({"type": "control", "action": "commit"}))
        seen = await _recv_until(ws, "final_translation")
    final = seen[-1]
    assert final["text"] == "[en] hello to everyone"
    assert final["seq"] == 2  # no client seqs: the count of inputs applied (text, commit)
    assert [m["seq"] in (1, 2) for m in seen if m["type"] == "partial_translation"] == [True]


async def test_design_tts_audio_uses_data_and_format(server):
    hello = {**HELLO, "session": {**HELLO["session"], "features": ["tts", "partial_results"]}}
    async with connect(_url(server), additional_headers=AUTH) as ws:
        await ws.send(json.dumps(hello))
        await _recv_until(ws, "session.created")
        await ws.send(json.dumps({"type": "input_text", "seq": 33, "text": "¿Cómo estás?"}))
        await ws.send(json.dumps({"type": "control", "action": "commit"}))
        seen = await _recv_until(ws, "tts_audio")
    tts = seen[-1]
    assert tts["format"] == "pcm16le" and tts["seq"] == 33 and "audio" not in tts
    assert len(base64.b64decode(tts["data"])) > 0


async def test_unknown_features_are_ignored_and_listed(server):
    hello = {**HELLO, "session": {**HELLO["session"], "features": ["vad", "emotion", "partial_results"]}}
    async with connect(_url(server), additional_headers=AUTH) as ws:
        await ws.send(json.dumps(hello))
        created = json.loads(await ws.recv(decode=True))
    assert created["type"] == "session.created" and created["ignored_features"] == ["emotion"]


async def test_query_parameters_are_defaults_that_hello_overrides(server):
    async with connect(_url(server, "source_lang=es&target_lang=de"), additional_headers=AUTH) as ws:
        # a design hello without target_lang takes the query's
        await ws.send(json.dumps({"type": "hello", "version": DESIGN_VERSION, "session": {"source_lang": "es"}}))
        created = json.loads(await ws.recv(decode=True))
        assert created["config"]["target_lang"] == "de" and created["config"]["source_lang"] == "es"
    async with connect(_url(server, "target_lang=de"), additional_headers=AUTH) as ws:
        await ws.send(json.dumps(HELLO))  # hello says en
        created = json.loads(await ws.recv(decode=True))
        assert created["config"]["target_lang"] == "en"
    async with connect(_url(server, "target_lang=fr"), additional_headers=AUTH) as ws:
        await ws.send(json.dumps({"type": "hello", "source_lang": "es"}))  # version 1 too
        created = json.loads(await ws.recv(decode=True))
        assert created["version"] == 1 and created["config"]["target_lang"] == "fr"


async def test_an_unknown_version_names_the_served_ones(server):
    async with connect(_url(server), additional_headers=AUTH) as ws:
        await ws.send(json.dumps({**HELLO, "version": "2030-01-01"}))
        err = json.loads(await ws.recv(decode=True))
    assert err["type"] == "error" and err["code"] == "UNSUPPORTED_VERSION"
    assert "2026-05-01" in err["message"] and "1" in err["message"]


async def test_design_audio_errors_are_structured_and_the_session_goes_on(server):
    async with connect(_url(server), additional_headers=AUTH) as ws:
        await ws.send(json.dumps(HELLO))
        await _recv_until(ws, "session.created")
        await ws.send(json.dumps({"type": "input_audio", "format": "opus", "data": "AAAA"}))
        err = json.loads(await ws.recv(decode=True))
        assert err["code"] == "UNSUPPORTED_AUDIO_FORMAT"
        await ws.send(json.dumps({"type": "input_audio", "format": "pcm16le"}))
        err = json.loads(await ws.recv(decode=True))
        assert err["code"] == "MISSING_FIELD" and "audio" in err["message"]
        # PCM16 at 48 kHz is resampled to the session's 16 kHz
        speech = pcm_tone(1.0, rate=48000) + pcm_silence(0.4, rate=48000)
        for i in range(0, len(speech), 9600):
            await ws.send(json.dumps({"type": "input_audio", "format": "pcm16le", "sample_rate": 48000,
                                      "data": base64.b64encode(speech[i:i + 9600]).decode()}))
        seen = await _recv_until(ws, "final_translation")
    assert "error" not in [m["type"] for m in seen]
    assert seen[-1]["text"].startswith("[en] hello")


def test_rest_translate_answers_with_translation_and_latency(server):
    body = {"source_lang": "es", "target_lang": "en", "text": "hola mundo",
            "dictionary": {"hola": "Hi"}, "formality": "formal"}
    resp = httpx.post(f"{server.base_url}/v1/translate", json=body, headers=AUTH, timeout=20)
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert isinstance(out["translation"], str) and out["translation"] == out["text"]
    assert isinstance(out["latency_ms"], float | int)
    batch = httpx.post(f"{server.base_url}/v1/translate", json={**body, "text": ["hola", "mundo"]},
                       headers=AUTH, timeout=20).json()
    assert "translation" not in batch or batch["translation"] is None
    assert len(batch["translations"]) == 2
