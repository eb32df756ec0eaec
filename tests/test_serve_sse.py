"""REST input + server-sent events, over a real server (plumbing backend)."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from tests.serve_fixtures import EventReader, pcm_silence, pcm_tone, start_server


@pytest.fixture(scope="module")
def server():
    srv = start_server()
    yield srv
    srv.stop()


def test_sse_text_session(server):
    url = server.base_url
    created = httpx.post(f"{url}/v1/sessions", json={"source_lang": "es", "target_lang": "en"}).json()
    sid = created["session_id"]
    assert created["events_url"] == f"/v1/sessions/{sid}/events"
    reader = EventReader(url + created["events_url"])
    r = httpx.post(url + created["input_url"], json={"type": "input_text", "text": "hola a todos", "seq": 1})
    assert r.status_code == 200 and r.json()["results"] == [{"seq": 1, "accepted": True, "duplicate": False}]
    partial = reader.wait_for("partial_translation")
    assert partial["event"] == "partial_translation" and partial["committed"] == "[en] hello"
    r = httpx.post(url + created["input_url"], json={"type": "input_text", "text": "hola a todos", "seq": 1})
    assert r.json()["results"][0]["duplicate"] is True
    r = httpx.post(url + created["input_url"], json={"messages": [
        {"type": "input_text", "text": "y buenas tardes", "final": True, "seq": 2},
        {"type": "bogus"},
        {"type": "control", "action": "end", "seq": 3},
    ]})
    results = r.json()["results"]
    assert results[0]["accepted"] and results[1]["error"]["code"] == "UNKNOWN_TYPE" and results[2]["accepted"]
    final = reader.wait_for("final_translation")
    assert final["text"] == "[en] hello to everyone and good afternoon"
    assert reader.wait_for("session.ended")["reason"] == "client_end"
    reader.join()
    assert reader.ids == sorted(reader.ids)


def test_sse_audio_input_raw_and_base64(server):
    url = server.base_url
    created = httpx.post(f"{url}/v1/sessions", json={"source_lang": "es", "target_lang": "en"}).json()
    reader = EventReader(url + created["events_url"])
    speech = pcm_tone(0.8)
    r = httpx.post(url + created["input_url"], content=speech, headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 200, r.text
    quiet = base64.b64encode(pcm_silence(0.5)).decode()
    r = httpx.post(url + created["input_url"], json={"type": "input_audio", "audio": quiet, "seq": 10})
    assert r.json()["results"][0]["accepted"]
    assert reader.wait_for("final_asr")["text"].startswith("hola")
    assert reader.wait_for("final_translation")["text"].startswith("[en] hello")
    httpx.post(url + created["input_url"], json={"type": "control", "action": "end"})
    reader.join()


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (b"{bad", {"Content-Type": "application/json"}, 400, "MALFORMED_JSON"),
        (json.dumps({"type": "input_text"}).encode(), {"Content-Type": "application/json"}, 400, "MISSING_FIELD"),
        (json.dumps({"type": "hello", "target_lang": "en"}).encode(), {"Content-Type": "application/json"}, 400,
         "INVALID_MESSAGE"),
        (b"\x01\x02\x03", {"Content-Type": "application/octet-stream"}, 400, "INVALID_AUDIO"),
        (json.dumps({"type": "input_text", "text": "x" * 5001}).encode(), {"Content-Type": "application/json"}, 413,
         "TEXT_TOO_LONG"),
    ],
)
def test_sse_input_errors(server, body, headers, status, code):
    url = server.base_url
    created = httpx.post(f"{url}/v1/sessions", json={"source_lang": "es", "target_lang": "en"}).json()
    r = httpx.post(url + created["input_url"], content=body, headers=headers)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    assert httpx.delete(f"{url}/v1/sessions/{created['session_id']}").status_code == 200


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"target_lang": "xx"}, "UNSUPPORTED_LANGUAGE"),
        ({"source_lang": "es"}, "MISSING_FIELD"),
        ({"target_lang": "en", "glossary": 3}, "INVALID_GLOSSARY"),
        ({"target_lang": "en", "audio": {"sample_rate": 22050}}, "UNSUPPORTED_AUDIO_FORMAT"),
    ],
)
def test_create_session_errors(server, body, code):
    r = httpx.post(f"{server.base_url}/v1/sessions", json=body)
    assert r.status_code == 400 and r.json()["error"]["code"] == code


def test_unknown_session(server):
    r = httpx.get(f"{server.base_url}/v1/sessions/s_nope/events")
    assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"
