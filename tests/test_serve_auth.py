"""Auth, tokens, bind safety, TLS, log redaction and data deletion, on real sockets."""

from __future__ import annotations

import json
import logging
import ssl
import time

import grpc
import httpx
import pytest
from websockets.asyncio.client import connect

from rtt.client import RttApiError, RttClient
from rtt.config import load_config
from rtt.errors import ConfigError
from serve.auth import Authenticator, Principal, hash_key
from serve.redact import RedactingFilter
from serve.server import check_bind_safety, is_loopback
from serve.settings import load_serve_settings
from tests.serve_fixtures import (
    pcm_silence,
    pcm_tone,
    running_server,
    self_signed_cert,
    serve_settings,
    start_server,
)

KEY = "test-key-0123456789"
ENV_KEY = "env-key-abcdef"


@pytest.fixture(scope="module")
def server():
    srv = start_server(settings=serve_settings(api_keys=[KEY], retention={"transcripts": True, "ttl_s": 60}),
                       environ={"RTT_API_KEYS": f" {ENV_KEY} , "})
    yield srv
    srv.stop()


def test_keys_are_stored_hashed(server):
    auth = server.state.auth
    assert auth.enabled
    stored = repr(vars(auth))
    assert KEY not in stored and ENV_KEY not in stored
    assert hash_key(KEY) in stored


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/docs", "/openapi.json"])
def test_public_endpoints(server, path):
    assert httpx.get(server.base_url + path).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/translate", {"text": "hola", "target_lang": "en"}),
        ("GET", "/v1/languages", None),
        ("GET", "/metrics", None),
        ("POST", "/v1/sessions", {"target_lang": "en"}),
        ("POST", "/v1/tokens", {}),
        ("POST", "/v1/transcribe", None),
        ("DELETE", "/v1/data", None),
        ("GET", "/", None),
        ("GET", "/languages", None),
    ],
)
def test_protected_endpoints_need_a_key(server, method, path, body):
    r = httpx.request(method, server.base_url + path, json=body)
    assert r.status_code in (401, 403), r.text
    err = r.json()["error"]
    code = err["code"] if isinstance(err, dict) else r.json()["code"]
    assert code == "UNAUTHORIZED"
    r = httpx.request(method, server.base_url + path, json=body, headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401


def test_bearer_query_token_env_key_and_libre_api_key(server):
    url = server.base_url
    body = {"text": "hola", "target_lang": "en"}
    assert httpx.post(f"{url}/v1/translate", json=body, headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
    assert httpx.post(f"{url}/v1/translate?token={ENV_KEY}", json=body).status_code == 200
    r = httpx.post(f"{url}/translate", json={"q": "hola", "source": "es", "target": "en", "api_key": KEY})
    assert r.status_code == 200 and r.json()["translatedText"] == "[en] hello"
    r = httpx.post(f"{url}/translate", json={"q": "hola", "source": "es", "target": "en", "api_key": "nope"})
    assert r.status_code == 401 and "error" in r.json()


async def test_websocket_auth(server):
    async with connect(server.ws_url) as ws:
        err = json.loads(await ws.recv())
        assert err["code"] == "UNAUTHORIZED" and err["fatal"] is True
        await ws.wait_closed()
        assert ws.close_code == 4401
    async with RttClient(server.base_url, api_key=KEY) as client, \
            client.realtime(source_lang="es", target_lang="en") as rt:
        await rt.send_text("gracias", final=True)
        assert (await rt.wait_for("final_translation")).text == "[en] thanks"
        await rt.end()


async def test_tokens_for_browsers(server):
    async with RttClient(server.base_url, api_key=KEY) as client:
        minted = await client.mint_token(ttl_s=60)
        assert minted.token.startswith("rtt1.") and minted.expires_at > time.time()
        # A token works on REST and on the WebSocket (as ?token= in a browser).
        async with RttClient(server.base_url, token=minted.token) as browser:
            assert (await browser.translate("hola a todos", target_lang="en")).text == "[en] hello to everyone"
            with pytest.raises(RttApiError) as exc:
                await browser.mint_token()
            assert exc.value.status == 403 and exc.value.code == "FORBIDDEN"
        async with connect(f"{server.ws_url}?token={minted.token}") as ws:
            await ws.send(json.dumps({"type": "hello", "source_lang": "es", "target_lang": "en"}))
            assert json.loads(await ws.recv())["type"] == "session.created"
        other_aud = await client.mint_token(ttl_s=60, audience="another-service")
        r = httpx.get(f"{server.base_url}/v1/languages?token={other_aud.token}")
        assert r.status_code == 401 and "audience" in r.json()["error"]["message"]
    tampered = minted.token[:-3] + ("AAA" if not minted.token.endswith("AAA") else "BBB")
    r = httpx.get(f"{server.base_url}/v1/languages", headers={"Authorization": f"Bearer {tampered}"})
    assert r.status_code == 401 and "signature" in r.json()["error"]["message"]


def test_token_expiry_and_audience_unit():
    auth = Authenticator([KEY], "secret", "rtt")
    principal = auth.principal_for_key(KEY)
    assert principal is not None
    token, _ = auth.mint_token(principal, ttl_s=-1)
    with pytest.raises(Exception, match="expired"):
        auth.verify_token(token)
    other = Authenticator([KEY], "another-secret", "rtt")
    good, _ = auth.mint_token(principal, ttl_s=60)
    with pytest.raises(Exception, match="signature"):
        other.verify_token(good)
    assert auth.verify_token(good).id == principal.id
    with pytest.raises(Exception, match="cannot mint"):
        auth.mint_token(Principal(principal.id, "token"), 60)


def test_session_of_another_key_is_invisible(server):
    h1 = {"Authorization": f"Bearer {KEY}"}
    h2 = {"Authorization": f"Bearer {ENV_KEY}"}
    sid = httpx.post(f"{server.base_url}/v1/sessions", json={"target_lang": "en"}, headers=h1).json()["session_id"]
    r = httpx.post(f"{server.base_url}/v1/sessions/{sid}/input", json={"type": "input_text", "text": "x"}, headers=h2)
    assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"
    assert httpx.delete(f"{server.base_url}/v1/sessions/{sid}", headers=h2).status_code == 404
    assert httpx.delete(f"{server.base_url}/v1/sessions/{sid}", headers=h1).status_code == 200


async def test_retention_and_deletion(server):
    h = {"Authorization": f"Bearer {KEY}"}
    async with RttClient(server.base_url, api_key=KEY) as client:
        async with client.realtime(source_lang="es", target_lang="en") as rt:
            await rt.send_text("hola mundo", final=True)
            await rt.wait_for("final_translation")
            sid = rt.session_id
            await rt.end()
        r = httpx.get(f"{server.base_url}/v1/sessions/{sid}/transcript", headers=h)
        assert r.status_code == 200 and r.json()["entries"][0]["text"] == "[en] hello world"
        r = httpx.get(f"{server.base_url}/v1/sessions/{sid}/transcript",
                      headers={"Authorization": f"Bearer {ENV_KEY}"})
        assert r.status_code == 404
        assert httpx.delete(f"{server.base_url}/v1/sessions/{sid}", headers=h).json()["transcript_deleted"] is True
        assert httpx.get(f"{server.base_url}/v1/sessions/{sid}/transcript", headers=h).status_code == 404
        # DELETE /v1/data removes every session and transcript of the key.
        async with client.realtime(source_lang="es", target_lang="en") as rt:
            await rt.send_text("gracias", final=True)
            await rt.wait_for("final_translation")
            open_sid = rt.session_id
            r = httpx.delete(f"{server.base_url}/v1/data", params={"key": ENV_KEY}, headers=h)
            assert r.status_code == 403  # the key must be the caller's own
            r = httpx.delete(f"{server.base_url}/v1/data", params={"key": KEY}, headers=h)
            assert r.status_code == 200 and r.json()["deleted"]["sessions_closed"] >= 1
            assert (await rt.wait_for("session.ended")).reason == "deleted"
        assert server.state.transcripts.get(open_sid, server.state.auth.principal_for_key(KEY).id) is None


async def test_subtitles_of_a_retained_session(server):
    h = {"Authorization": f"Bearer {KEY}"}
    async with RttClient(server.base_url, api_key=KEY) as client, \
            client.realtime(source_lang="es", target_lang="en") as rt:
        for pcm in (pcm_silence(0.5), pcm_tone(1.0), pcm_silence(0.5)):  # speech from 0.5 to 1.5 s
            await rt.send_audio(pcm, binary=True)
        await rt.wait_for("final_translation")
        await rt.send_text("solo texto", final=True)  # text input has no audio time: no cue
        await rt.wait_for("final_translation")
        sid = rt.session_id
        await rt.end()
    url = f"{server.base_url}/v1/sessions/{sid}/subtitles"
    vtt = httpx.get(url, headers=h)
    assert vtt.status_code == 200 and vtt.headers["content-type"].startswith("text/vtt")
    assert vtt.text.startswith("WEBVTT\n\n00:00:00.500 --> 00:00:01.500\n[en] hello")
    assert "solo" not in vtt.text
    srt = httpx.get(url, params={"format": "srt", "track": "transcript"}, headers=h)
    assert srt.headers["content-type"].startswith("application/x-subrip")
    assert srt.text.startswith("1\n00:00:00,500 --> 00:00:01,500\nhola")
    assert httpx.get(url, params={"format": "txt"}, headers=h).status_code == 400
    other = httpx.get(url, headers={"Authorization": f"Bearer {ENV_KEY}"})
    assert other.status_code == 404 and other.json()["error"]["code"] == "NOT_FOUND"


def test_no_retention_by_default():
    with running_server() as srv:
        assert srv.state.transcripts.enabled is False


def test_bind_safety():
    cfg = load_config()
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.10")
    check_bind_safety(load_serve_settings(cfg), auth_enabled=False)  # default loopback: fine
    public = load_serve_settings(cfg, host="0.0.0.0")
    with pytest.raises(ConfigError, match="allow-insecure-public"):
        check_bind_safety(public, auth_enabled=False)
    check_bind_safety(public, auth_enabled=True)
    check_bind_safety(load_serve_settings(cfg, host="0.0.0.0", allow_insecure_public=True), auth_enabled=False)


def test_prehashed_keys_work_over_http_and_bad_hashes_refuse_to_start(capsys):
    from rtt.cli.main import main

    assert main(["serve", "--hash-key", "hashed-only-key-42"]) == 0
    entry = capsys.readouterr().out.strip()
    assert entry == "sha256:" + hash_key("hashed-only-key-42")
    with running_server(settings=serve_settings(api_keys=[entry.upper().replace("SHA256:", "sha256:")])) as srv:
        ok = httpx.get(f"{srv.base_url}/v1/languages", headers={"Authorization": "Bearer hashed-only-key-42"})
        # the hash itself is not a key: only its preimage opens the door
        bad = httpx.get(f"{srv.base_url}/v1/languages", headers={"Authorization": f"Bearer {entry}"})
    assert ok.status_code == 200 and bad.status_code == 401
    for broken in ("sha256:abc", "sha256:" + "g" * 64):
        with pytest.raises(ConfigError, match="64 hex digits"):
            Authenticator([broken], None, "rtt")


def test_cli_refuses_public_bind_without_keys(monkeypatch):
    from serve.server import run

    monkeypatch.delenv("RTT_API_KEYS", raising=False)
    with pytest.raises(ConfigError, match="refusing"):
        run(host="0.0.0.0", port=0)


def test_log_redaction():
    f = RedactingFilter()
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "GET /v1/realtime?token=%s HTTP/1.1" 101 mail me at ana@example.com',
                               ("127.0.0.1:5000", "rtt1.secretpayload.sig"), None)
    f.filter(record)
    line = record.getMessage()
    assert "secretpayload" not in line and "ana@example.com" not in line
    assert "127.0.0.1:5000" in line and "token=<redacted>" in line
    # uvicorn's access formatter reads the arguments positionally: they must survive, cleaned.
    from uvicorn.logging import AccessFormatter

    access = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", "/v1/realtime?token=abc.def&x=1", "1.1", 101), None)
    f.filter(access)
    out = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False).format(access)
    assert out == '127.0.0.1:5000 - "GET /v1/realtime?token=<redacted>&x=1 HTTP/1.1" 101 Switching Protocols'


async def test_tls_https_wss_and_grpc(tmp_path):
    cert, key = self_signed_cert(tmp_path)
    settings = serve_settings(tls={"certfile": str(cert), "keyfile": str(key)})
    with running_server(settings=settings) as srv:
        assert srv.base_url.startswith("https://")
        ctx = ssl.create_default_context(cafile=str(cert))
        async with RttClient(srv.base_url, verify=ctx) as client:
            assert (await client.translate("hola", target_lang="en", source_lang="es")).text == "[en] hello"
            async with client.realtime(source_lang="es", target_lang="en") as rt:
                await rt.send_text("gracias", final=True)
                assert (await rt.wait_for("final_translation")).text == "[en] thanks"
                await rt.end()
        with pytest.raises(httpx.ConnectError):
            httpx.get(srv.base_url + "/healthz")  # not trusted without the CA
        from serve.grpc_gen import realtime_pb2 as pb
        from serve.grpc_gen import realtime_pb2_grpc as pb_grpc

        creds = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
        async with grpc.aio.secure_channel(srv.grpc_target, creds) as channel:
            stub = pb_grpc.RealtimeTranslateStub(channel)

            async def requests():
                yield pb.ClientMessage(hello=pb.Hello(source_lang="es", target_lang="en"))
                yield pb.ClientMessage(text=pb.Text(text="gracias", final=True))

            finals = [m.translation.text async for m in stub.Stream(requests())
                      if m.WhichOneof("kind") == "translation" and m.translation.is_final]
            assert finals == ["[en] thanks"]
