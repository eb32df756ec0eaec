"""REST over a real uvicorn server on 127.0.0.1 (plumbing backend: see tests/serve_fixtures.py)."""

from __future__ import annotations

import concurrent.futures

import httpx
import pytest

from tests.serve_fixtures import PlumbingBackend, pcm_tone, running_server, serve_settings, start_server


@pytest.fixture(scope="module")
def server():
    srv = start_server()
    yield srv
    srv.stop()


@pytest.fixture()
def http(server):
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        yield client


def error_of(resp: httpx.Response) -> dict:
    body = resp.json()
    assert set(body) == {"error"}, body
    assert {"code", "message"} <= set(body["error"])
    return body["error"]


def test_health_ready_docs(http):
    assert http.get("/healthz").json() == {"status": "ok"}
    ready = http.get("/readyz")
    assert ready.status_code == 200 and ready.json()["ready"] is True
    assert http.get("/docs").status_code == 200
    spec = http.get("/openapi.json").json()
    assert "/v1/translate" in spec["paths"] and "/v1/speech-translate" in spec["paths"]


def test_translate_single_and_batch(http, server):
    r = http.post("/v1/translate", json={"text": "hola mundo", "source_lang": "es", "target_lang": "en"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["text"] == "[en] hello world"
    assert body["translations"][0]["source_lang"] == "es"
    assert body["latency_ms"] >= 0 and body["version"] == 1
    r = http.post("/v1/translate", json={"text": ["hola a todos", "gracias a todos"], "target_lang": "de"})
    body = r.json()
    assert [t["text"] for t in body["translations"]] == ["[de] hello to everyone", "[de] thanks to everyone"]
    assert body["detected_lang"] == "es"  # source auto: the Translator's language ID
    # Model calls never run on the event loop.
    assert all(name.startswith("rtt-model") for name in server.backend.calls.translate_threads)


def test_translate_dictionary_and_options(http):
    r = http.post("/v1/translate", json={"text": "hola mundo", "source_lang": "es", "target_lang": "en",
                                         "dictionary": {"mundo": "planet"}, "formality": "formal", "tier": "fast"})
    assert r.status_code == 200, r.text
    assert r.json()["text"] == "[en] hello planet"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"text": "hola", "target_lang": "xx"}, 400, "UNSUPPORTED_LANGUAGE"),
        ({"text": "hola", "source_lang": "en", "target_lang": "en"}, 400, "UNSUPPORTED_LANGUAGE"),
        ({"text": "x" * 5001, "target_lang": "en"}, 413, "TEXT_TOO_LONG"),
        ({"text": "   ", "target_lang": "en"}, 400, "EMPTY_TEXT"),
        ({"text": "hola", "target_lang": "en", "dictionary": ["a"]}, 400, "INVALID_GLOSSARY"),
        ({"text": "hola", "target_lang": "en", "dictionary": "a=b"}, 400, "INVALID_GLOSSARY"),
        ({"text": "hola"}, 400, "MISSING_FIELD"),
        ({"text": 5, "target_lang": "en"}, 400, "INVALID_FIELD"),
        ({"text": "hola", "target_lang": "en", "formality": "rude"}, 400, "INVALID_FIELD"),
    ],
)
def test_translate_errors(http, body, status, code):
    r = http.post("/v1/translate", json=body)
    assert r.status_code == status, r.text
    assert error_of(r)["code"] == code


def test_translate_malformed_json(http):
    r = http.post("/v1/translate", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and error_of(r)["code"] == "MALFORMED_JSON"


def test_languages(http):
    body = http.get("/v1/languages").json()
    codes = {lang["code"] for lang in body["languages"]}
    assert {"en", "es", "de", "fr"} <= codes
    assert "fast" in body["tiers"] and body["default_tier"] == "fast"


def test_libretranslate_compat(http):
    r = http.post("/translate", json={"q": "hola mundo", "source": "es", "target": "en", "format": "text"})
    assert r.status_code == 200, r.text
    assert r.json() == {"translatedText": "[en] hello world"}
    r = http.post("/translate", json={"q": "gracias", "source": "auto", "target": "en"})
    body = r.json()
    assert body["translatedText"] == "[en] thanks"
    assert body["detectedLanguage"]["language"] == "es"
    assert 0 <= body["detectedLanguage"]["confidence"] <= 100
    r = http.post("/translate", data={"q": "hola", "source": "es", "target": "fr"})  # form body
    assert r.json()["translatedText"] == "[fr] hello"
    r = http.post("/translate", json={"q": ["hola", "mundo"], "source": "es", "target": "en"})
    assert r.json()["translatedText"] == ["[en] hello", "[en] world"]
    r = http.post("/translate", json={"q": "hola", "source": "es", "target": "zz"})
    assert r.status_code == 400 and isinstance(r.json()["error"], str)
    r = http.post("/translate", json={"source": "es", "target": "en"})
    assert r.status_code == 400 and "q" in r.json()["error"]
    langs = http.get("/languages").json()
    en = next(lang for lang in langs if lang["code"] == "en")
    assert en["name"] == "English" and "es" in en["targets"]


def test_metrics_exposition(http):
    http.get("/healthz")
    text = http.get("/metrics").text
    assert "rtt_http_requests_total" in text
    assert 'route="/healthz"' in text
    assert "rtt_sessions_active" in text


def test_body_too_large():
    settings = serve_settings(sizes={"max_body_bytes": 2048})
    with running_server(settings=settings) as srv, httpx.Client(base_url=srv.base_url) as http:
        r = http.post("/v1/translate", json={"text": "a" * 4000, "target_lang": "en"})
        assert r.status_code == 413 and error_of(r)["code"] == "FRAME_TOO_LARGE"


def test_readyz_while_loading_and_not_ready_errors():
    backend = PlumbingBackend(load_delay_s=2.0)
    srv = start_server(backend=backend, wait_ready=False)
    try:
        with httpx.Client(base_url=srv.base_url) as http:
            r = http.get("/readyz")
            assert r.status_code == 503 and r.json()["ready"] is False
            r = http.post("/v1/translate", json={"text": "hola", "target_lang": "en"})
            assert r.status_code == 503 and error_of(r)["code"] == "NOT_READY"
            assert int(r.headers["Retry-After"]) >= 1
            assert http.get("/healthz").status_code == 200
    finally:
        srv.stop()


def test_overloaded_when_queue_full():
    backend = PlumbingBackend(translate_delay_s=1.0)
    settings = serve_settings(limits={"max_inflight_requests": 1, "max_waiting_requests": 0})
    with running_server(backend=backend, settings=settings) as srv:
        def call() -> httpx.Response:
            # source_lang given: auto-detection would call "hola" English and answer without the model
            return httpx.post(f"{srv.base_url}/v1/translate", json={"text": "hola", "source_lang": "es",
                                                                   "target_lang": "en"}, timeout=30)

        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            results = list(pool.map(lambda _: call(), range(3)))
        codes = sorted(r.status_code for r in results)
        assert codes[0] == 200 and 503 in codes
        busy = next(r for r in results if r.status_code == 503)
        assert error_of(busy)["code"] == "OVERLOADED" and error_of(busy)["retry_after_ms"] > 0


def test_speech_translate_raw_pcm_and_errors(http):
    pcm = pcm_tone(1.0) + b"\x00\x00" * 8000
    r = http.post("/v1/speech-translate", params={"target_lang": "en", "source_lang": "es"}, content=pcm,
                  headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["segments"] and body["text"].startswith("hola")
    assert body["translation"].startswith("[en]") and body["duration_s"] == 1.5
    assert body["segments"][0]["words"] is None  # not asked for
    r = http.post("/v1/transcribe", params={"source_lang": "es"}, content=pcm,
                  headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 200 and r.json()["translation"] is None
    r = http.post("/v1/transcribe", params={"source_lang": "es", "word_timestamps": "true"}, content=pcm,
                  headers={"Content-Type": "application/octet-stream"})
    seg = r.json()["segments"][0]
    assert [w["text"] for w in seg["words"]] == seg["text"].split() and seg["words"][1]["start_ms"] == 500.0
    r = http.post("/v1/transcribe", content=b"\x00\x01\x02", headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 400 and error_of(r)["code"] == "INVALID_AUDIO"
    r = http.post("/v1/transcribe", files={"file": ("x.ogg", b"definitely not audio")})
    assert r.status_code == 400 and error_of(r)["code"] == "INVALID_AUDIO"
    r = http.post("/v1/transcribe", params={"sample_rate": 11025}, content=pcm,
                  headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 400 and error_of(r)["code"] == "UNSUPPORTED_AUDIO_FORMAT"


def test_clip_too_long():
    settings = serve_settings(sizes={"max_clip_seconds": 1.0})
    with running_server(settings=settings) as srv, httpx.Client(base_url=srv.base_url) as http:
        r = http.post("/v1/transcribe", content=b"\x00\x00" * 32000, headers={"Content-Type": "application/octet-stream"})
        assert r.status_code == 413 and error_of(r)["code"] == "CLIP_TOO_LONG"
