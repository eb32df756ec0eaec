"""WebRTC transport: ``POST /v1/webrtc/offer`` answers a browser's offer with aiortc.

The browser's microphone arrives as an Opus track (aiortc's jitter buffer orders the packets
and decodes them); a DataChannel carries the realtime protocol's JSON messages both ways, the
same messages as the WebSocket, handled by the same :class:`RealtimeConnection`.  So hello,
limits, metrics, resume and shutdown are the WebSocket's.  Synthesized speech goes back on an
audio track when the offer's audio section can receive (``sendrecv``).

ICE is not trickled: the browser sends its offer once gathering is complete and the answer
holds all of the server's candidates (``serve.webrtc.ice_servers`` adds STUN/TURN for NAT).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Coroutine
from typing import Annotated, Any

from aiortc import RTCConfiguration, RTCDataChannel, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.sdp import SessionDescription
from av.audio.frame import AudioFrame
from fastapi import APIRouter, Depends, Request

from rtt.protocol import (
    DESIGN_VERSION,
    PROTOCOL_VERSION,
    Error,
    ProtocolError,
    TtsAudio,
    WebRtcAnswer,
    WebRtcOffer,
)
from serve.auth import Principal
from serve.realtime import RealtimeConnection
from serve.state import ServeState, get_state, require_principal
from serve.webrtc_media import MicrophoneChunker, SpeechTrack
from serve.wire import design

log = logging.getLogger("serve.webrtc")
router = APIRouter(tags=["webrtc"])
AuthDep = Annotated[Principal, Depends(require_principal)]

CHANNEL_LABEL = "rtt"
# Outbound DataChannel bytes not yet handed to SCTP: past HIGH the sender waits for LOW, which
# is what makes a slow reader fill the session's outbox (and be cut off) as on the WebSocket.
BUFFER_HIGH = 1 << 20
BUFFER_LOW = 256 << 10
# After session.ended: how long the client has to close the connection itself.
LINGER_S = 2.0


class OfferCheck:
    """What the handler needs to know about an offer before it spends a peer connection on it."""

    def __init__(self, sdp: str) -> None:
        try:
            parsed = SessionDescription.parse(sdp)
        except Exception as exc:
            raise ProtocolError("INVALID_FIELD", f"sdp: not a session description ({type(exc).__name__})") from None
        kinds = [m.kind for m in parsed.media]
        if "application" not in kinds:
            raise ProtocolError("INVALID_FIELD", "sdp: the offer has no DataChannel (m=application); create one "
                                                 f"labelled {CHANNEL_LABEL!r} before createOffer()")
        if "video" in kinds:
            raise ProtocolError("INVALID_FIELD", "sdp: the offer has a video section; this service takes audio only")
        if not any(m.ice_candidates for m in parsed.media):
            raise ProtocolError("INVALID_FIELD", "sdp: the offer has no ICE candidates; send localDescription once "
                                                 "iceGatheringState is 'complete' (candidates are not trickled)")
        audio = [m for m in parsed.media if m.kind == "audio"]
        # None: aiortc's reading of an offer without a direction attribute, i.e. sendrecv.
        self.speech_back = bool(audio) and (audio[0].direction or "sendrecv") in ("sendrecv", "recvonly")


@router.post("/v1/webrtc/offer", response_model=WebRtcAnswer)
async def offer(body: WebRtcOffer, request: Request, principal: AuthDep) -> WebRtcAnswer:
    """Answer an SDP offer (an audio track, a DataChannel) with the server's SDP answer."""
    state = get_state(request)
    if not state.settings.webrtc.enabled:
        raise ProtocolError("NOT_FOUND", "WebRTC is disabled on this server (serve.webrtc.enabled)")
    if body.version != PROTOCOL_VERSION:
        raise ProtocolError("UNSUPPORTED_VERSION", f"offer version {body.version!r} is not served (use 1)")
    if state.manager.draining:
        raise ProtocolError("SHUTTING_DOWN", "the server is shutting down", retry_after_ms=1000)
    await state.limiter.check_request(principal)
    check = OfferCheck(body.sdp)
    _check_room(state, principal)
    peer = WebRtcPeer(state, principal)
    t0 = time.perf_counter()
    try:
        sdp = await peer.answer(body.sdp, check.speech_back)
    except ProtocolError:
        await peer.close()
        raise
    except Exception as exc:
        await peer.close()
        log.info("offer refused: %s: %s", type(exc).__name__, exc)
        raise ProtocolError("INVALID_FIELD", f"sdp: the offer cannot be answered ({type(exc).__name__}: "
                                             f"{str(exc)[:200]})") from None
    log.info("webrtc peer %s for %s answered in %.0f ms (speech track: %s)", peer.id, principal.id,
             (time.perf_counter() - t0) * 1000, peer.speech is not None)
    return WebRtcAnswer(sdp=sdp, peer_id=peer.id)


def _check_room(state: ServeState, principal: Principal) -> None:
    """Peer connections hold sockets before any hello: bound them as sessions are bounded."""
    limits = state.settings.limits
    peers = [p for p in state.peers if isinstance(p, WebRtcPeer)]
    if len(peers) >= limits.max_sessions_total:
        raise ProtocolError("OVERLOADED", "the server has no room for another peer connection", retry_after_ms=5000)
    if sum(p.principal.id == principal.id for p in peers) >= limits.concurrent_sessions:
        raise ProtocolError("RATE_LIMIT", f"more than {limits.concurrent_sessions} concurrent peer connections "
                                          "for this key", retry_after_ms=5000)


class WebRtcPeer:
    """One browser's peer connection and the realtime connection it carries."""

    def __init__(self, state: ServeState, principal: Principal) -> None:
        self.id = "p_" + secrets.token_urlsafe(9)
        self.state = state
        self.principal = principal
        ice = [RTCIceServer(urls=s.urls, username=s.username, credential=s.credential)
               for s in state.settings.webrtc.ice_servers]
        # An explicit empty list: aiortc's default is Google's public STUN server.
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=ice))
        self.channel: RTCDataChannel | None = None
        self.speech: SpeechTrack | None = None
        self.conn = RealtimeConnection(state.manager, principal, "webrtc", self._send, self._session_ended)
        self._inbox: asyncio.Queue[str | bytes | None] = asyncio.Queue()
        self._inbox_limit = state.settings.sizes.input_queue * 4
        self._session_ready = asyncio.Event()
        self._client_closed = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._microphone: asyncio.Task[None] | None = None
        self.closed = False
        state.peers.add(self)
        self.pc.on("datachannel", self._on_datachannel)
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_connection_state)

    async def answer(self, sdp: str, speech_back: bool) -> str:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        if speech_back:
            self.speech = SpeechTrack()
            self.pc.addTrack(self.speech)  # takes the offer's audio transceiver: sendrecv
        # aiortc gathers every candidate here, so the answer is complete (no trickle).
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        self._spawn(self._read_messages())
        self._spawn(self._hello_deadline())
        return self.pc.localDescription.sdp

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=f"webrtc-{self.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- events of the peer connection ---------------------------------------------------------
    def _on_datachannel(self, channel: RTCDataChannel) -> None:
        if self.channel is not None:
            return  # one protocol channel per peer; others are not read
        self.channel = channel
        channel.bufferedAmountLowThreshold = BUFFER_LOW
        channel.on("message", self._on_message)
        channel.on("close", lambda: self._spawn_close())
        if channel.ordered is False or channel.maxRetransmits is not None or channel.maxPacketLifeTime is not None:
            # Finals must arrive, in order: an unreliable channel would lose them silently.
            self._spawn(self._refuse(ProtocolError(
                "INVALID_FIELD", "the DataChannel must be ordered and reliable (no maxRetransmits or "
                                 "maxPacketLifeTime)")))

    def _on_message(self, data: str | bytes) -> None:
        if self._inbox.qsize() >= self._inbox_limit:
            # No transport backpressure reaches the browser's send(): refuse what overflows.
            self._spawn(self._reply_error(ProtocolError(
                "RATE_LIMIT", "messages arrive faster than the session takes them; one was dropped",
                retry_after_ms=500)))
            return
        self._inbox.put_nowait(data)

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "audio" and self._microphone is None:
            self._microphone = self._spawn(self._read_microphone(track))

    def _on_connection_state(self) -> None:
        if self.pc.connectionState in ("failed", "closed"):
            self._client_closed.set()
            self._spawn_close()

    def _spawn_close(self) -> None:
        # Never inside one of this peer's own tasks: close() cancels and awaits them.
        if not self.closed:
            self.state.manager.spawn(self.close(), name=f"webrtc-close-{self.id}")

    # -- inbound -------------------------------------------------------------------------------
    async def _read_messages(self) -> None:
        while True:
            data = await self._inbox.get()
            if data is None:
                return
            try:
                if isinstance(data, str):
                    await self.conn.on_text(data)
                else:
                    await self.conn.on_binary(data)
            except ConnectionError:
                return  # the channel closed under a reply; close() follows
            if self.conn.session is not None:
                self._session_ready.set()

    async def _read_microphone(self, track: MediaStreamTrack) -> None:
        # Audio before session.created waits in the track's queue (bounded by the hello deadline).
        await self._session_ready.wait()
        session = self.conn.session
        assert session is not None
        usable = session.options.audio_format == "pcm16le"
        if not usable:
            await self.conn.send_error(ProtocolError(
                "UNSUPPORTED_AUDIO_FORMAT", "the WebRTC audio track is decoded to PCM16; leave hello.audio "
                                            "unset (opus is for Opus packets sent as messages)"))
        chunker = MicrophoneChunker(session.options.sample_rate, self.state.settings.webrtc.audio_chunk_ms)
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                break
            if not usable or session.state != "open" or not isinstance(frame, AudioFrame):
                continue  # keep reading: an unread track queues its frames without bound
            for chunk in chunker.push(frame):
                await self.conn.on_audio(chunk, None)
        tail = chunker.flush()
        if usable and tail and session.state == "open" and not self.closed:
            await self.conn.on_audio(tail, None)

    async def _hello_deadline(self) -> None:
        timeout = self.state.settings.timeouts.hello_s
        await asyncio.sleep(timeout)
        if self.conn.session is None and not self.closed:
            await self._refuse(ProtocolError("IDLE_TIMEOUT", f"no hello within {timeout:g} s"))

    async def _reply_error(self, exc: ProtocolError, fatal: bool = False) -> None:
        with contextlib.suppress(ConnectionError):
            await self.conn.send_error(exc, fatal=fatal)

    async def _refuse(self, exc: ProtocolError) -> None:
        """A fatal error, as the WebSocket sends one before its close frame, then close."""
        await self._reply_error(exc, fatal=True)
        await self._linger()
        self._spawn_close()

    # -- outbound ------------------------------------------------------------------------------
    async def _send(self, message: Any) -> None:
        if isinstance(message, TtsAudio) and self.speech is not None and isinstance(message.audio, bytes):
            self.speech.play(message.audio, message.sample_rate)
            return
        channel = self.channel
        if channel is None or channel.readyState != "open":
            raise ConnectionError("the DataChannel is not open")
        # As serve/ws.py writes its text frames.
        if self.conn.version == DESIGN_VERSION:
            text = json.dumps(design.render(message), ensure_ascii=False)
        else:
            text = message.model_dump_json(exclude_none=True)
        try:
            channel.send(text)
        except ValueError as exc:  # over the browser's max-message-size
            channel.send(Error(code="FRAME_TOO_LARGE", message=f"a {message.type} message was not sent: {exc}")
                         .model_dump_json(exclude_none=True))
        if channel.bufferedAmount > BUFFER_HIGH:
            low = asyncio.Event()
            channel.once("bufferedamountlow", low.set)
            await low.wait()

    async def _session_ended(self) -> None:
        await self._linger()
        self._spawn_close()

    async def _linger(self) -> None:
        """Let the last messages leave and the client close first (closing aborts SCTP)."""
        deadline = time.monotonic() + LINGER_S
        channel = self.channel
        while channel is not None and channel.bufferedAmount > 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._client_closed.wait(), max(0.0, deadline - time.monotonic()))

    async def close(self) -> None:
        """The peer is gone or the server closes it: detach the session (it waits for a resume)."""
        if self.closed:
            return
        self.closed = True
        self.state.peers.discard(self)
        await self.conn.close()
        self._inbox.put_nowait(None)
        current = asyncio.current_task()
        tasks = [t for t in self._tasks if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.speech is not None:
            self.speech.stop()
        with contextlib.suppress(Exception):
            await self.pc.close()
        log.debug("webrtc peer %s closed", self.id)
