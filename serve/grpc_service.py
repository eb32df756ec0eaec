"""gRPC transport: ``rtt.realtime.v1.RealtimeTranslate/Stream`` on its own port, same event loop.

Messages are converted to and from the WebSocket protocol's pydantic models and handled by the
same :class:`~serve.realtime.RealtimeConnection`, so both transports behave identically.  When
the client half-closes its side, the session ends gracefully: finals in flight are delivered
and then the server closes the stream.  Credentials travel as ``authorization: Bearer ...``
metadata.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import grpc

from rtt.protocol import (
    AudioFormat,
    Control,
    Features,
    Hello,
    InputText,
    ProtocolError,
    parse_client_message,
)
from serve.auth import bearer_from_header
from serve.grpc_gen import realtime_pb2 as pb
from serve.grpc_gen import realtime_pb2_grpc as pb_grpc
from serve.realtime import RealtimeConnection

log = logging.getLogger("serve.grpc")
OUT_QUEUE = 64


def _opt(value: str) -> str | None:
    return value or None


def _json_field(raw: str, name: str, seq: int | None) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise ProtocolError("INVALID_GLOSSARY", f"{name} is not valid JSON", seq) from None


def hello_from_proto(h: Any, seq: int | None) -> Hello:
    refinement = {0: None, 1: True, 2: False}.get(h.refinement)
    raw: dict[str, Any] = {
        "type": "hello",
        "version": h.version or 1,
        "source_lang": h.source_lang or "auto",
        "target_lang": h.target_lang,
        "mode": h.mode or "cascade",
        "policy": _opt(h.policy),
        "stabilization": _opt(h.stabilization),
        "tier": _opt(h.tier),
        "formality": _opt(h.formality),
        "punctuation": {0: None, 1: True, 2: False}.get(h.punctuation),
        "glossary": _json_field(h.glossary_json, "glossary_json", seq),
        "tts_voice": _opt(h.tts_voice),
        "session_id": _opt(h.session_id),
        "audio": AudioFormat(encoding=h.encoding or "pcm16le", sample_rate=h.sample_rate or 16000).model_dump()
        if h.encoding in ("", "pcm16le", "opus") else {"encoding": h.encoding},
        "features": Features(vad=h.vad, partial_results=h.partial_results, tts=h.tts,
                             word_timestamps=h.word_timestamps, refinement=refinement).model_dump()
        if h.features_set else Features(word_timestamps=h.word_timestamps, refinement=refinement).model_dump(),
    }
    if seq is not None:
        raw["seq"] = seq
    if not h.target_lang:
        raw.pop("target_lang")
    msg = parse_client_message({k: v for k, v in raw.items() if v is not None})
    assert isinstance(msg, Hello)
    return msg


def to_proto(message: Any) -> Any:
    t = message.type
    m = message
    if t == "session.created":
        return pb.ServerMessage(created=pb.SessionCreated(
            session_id=m.session_id, resumed=m.resumed, last_seq=-1 if m.last_seq is None else m.last_seq,
            version=m.version, server_time=m.server_time))
    if t == "ack":
        return pb.ServerMessage(ack=pb.Ack(seq=m.seq, duplicate=m.duplicate))
    if t in ("partial_asr", "final_asr"):
        final = t == "final_asr"
        return pb.ServerMessage(asr=pb.Asr(
            utterance_id=m.utterance_id, is_final=final, text=m.text, committed=getattr(m, "committed", m.text),
            tentative=getattr(m, "tentative", ""), language=m.language or "", start_ms=getattr(m, "start_ms", 0.0),
            end_ms=getattr(m, "end_ms", 0.0), at_ms=m.at_ms,
            words=[pb.Word(text=w.text, start_ms=w.start_ms, end_ms=w.end_ms, probability=w.probability or 0.0)
                   for w in getattr(m, "words", None) or ()]))
    if t == "partial_translation":
        return pb.ServerMessage(translation=pb.Translation(
            utterance_id=m.utterance_id, is_final=False, text=m.text, committed=m.committed, tentative=m.tentative,
            source_read=m.source_read, at_ms=m.at_ms))
    if t == "final_translation":
        return pb.ServerMessage(translation=pb.Translation(
            utterance_id=m.utterance_id, is_final=True, text=m.text, committed=m.text, source_text=m.source_text,
            source_lang=m.source_lang, target_lang=m.target_lang, latency_ms=m.latency_ms, at_ms=m.at_ms,
            revision_pending=m.revision_pending))
    if t == "revised_translation":
        return pb.ServerMessage(translation=pb.Translation(
            utterance_id=m.utterance_id, is_final=True, text=m.text, committed=m.text, latency_ms=m.latency_ms,
            at_ms=m.at_ms, revision_status=m.status, previous_text=m.previous_text, reason=m.reason))
    if t == "tts_audio":
        import base64

        return pb.ServerMessage(tts=pb.Tts(
            utterance_id=m.utterance_id, chunk_index=m.chunk_index, pcm16=base64.b64decode(m.audio),
            sample_rate=m.sample_rate, is_last=m.is_last, at_ms=m.at_ms))
    if t == "pong":
        return pb.ServerMessage(pong=pb.Pong(seq=m.seq or 0, client_time=m.client_time or 0.0,
                                             server_time=m.server_time))
    if t == "drain":
        return pb.ServerMessage(drain=pb.Drain(reason=m.reason, retry_after_ms=m.retry_after_ms,
                                               queue_depth=m.queue_depth))
    if t == "error":
        return pb.ServerMessage(error=pb.Error(
            code=m.code, message=m.message, retry_after_ms=m.retry_after_ms or 0, has_seq=m.seq is not None,
            seq=m.seq or 0, fatal=m.fatal))
    if t == "session.ended":
        return pb.ServerMessage(ended=pb.SessionEnded(session_id=m.session_id, reason=m.reason))
    if t == "notice":
        return pb.ServerMessage(notice=pb.Notice(code=m.code, message=m.message))
    if t in ("speech_started", "speech_stopped"):
        return pb.ServerMessage(speech=pb.Speech(utterance_id=m.utterance_id, started=t == "speech_started",
                                                 at_ms=m.at_ms))
    raise ValueError(f"no protobuf form for {t}")


class RealtimeServicer(pb_grpc.RealtimeTranslateServicer):  # type: ignore[misc]
    def __init__(self, state: Any) -> None:
        self.state = state

    async def Stream(self, request_iterator: Any, context: Any) -> AsyncIterator[Any]:  # noqa: N802
        state = self.state
        out: asyncio.Queue[Any] = asyncio.Queue(maxsize=OUT_QUEUE)
        metadata = dict(context.invocation_metadata() or ())
        cred = bearer_from_header(metadata.get("authorization")) or metadata.get("x-api-key")
        try:
            # peer() is "ipv4:127.0.0.1:54321": anonymous limits key on the address, not the port.
            principal = state.auth.authenticate(cred, (context.peer() or "grpc").rsplit(":", 1)[0])
        except ProtocolError as exc:
            state.metrics.errors.labels(exc.code, "grpc").inc()
            yield pb.ServerMessage(error=pb.Error(code=exc.code, message=exc.message, fatal=True))
            context.set_code(grpc.StatusCode.UNAUTHENTICATED)
            context.set_details(exc.message)
            return

        async def send(message: Any) -> None:
            await out.put(to_proto(message))

        async def ended() -> None:
            await out.put(None)

        conn = RealtimeConnection(state.manager, principal, "grpc", send, ended)
        reader = asyncio.get_running_loop().create_task(self._read(request_iterator, conn, out))
        try:
            while True:
                item = await out.get()
                if item is None:
                    break
                yield item
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
            await conn.close()

    async def _read(self, request_iterator: Any, conn: RealtimeConnection, out: asyncio.Queue[Any]) -> None:
        try:
            async for req in request_iterator:
                await self._dispatch(req, conn)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the client cancelled or the stream broke
            log.debug("grpc read ended: %s", type(exc).__name__)
            return
        # Half-close: the client sent everything; deliver what is in flight, then end.
        if conn.session is not None and conn.session.state == "open":
            await conn.on_message(Control(type="control", action="end"))
        elif conn.session is None:
            await out.put(None)

    async def _dispatch(self, req: Any, conn: RealtimeConnection) -> None:
        seq = req.seq if req.has_seq else None
        kind = req.WhichOneof("kind")
        try:
            if kind == "hello":
                await conn.on_message(hello_from_proto(req.hello, seq))
            elif kind == "audio":
                await conn.on_audio(bytes(req.audio.data), seq)
            elif kind == "text":
                await conn.on_message(InputText(type="input_text", seq=seq, text=req.text.text, final=req.text.final))
            elif kind == "control":
                c = req.control
                raw: dict[str, Any] = {"type": "control", "action": c.action}
                if seq is not None:
                    raw["seq"] = seq
                if c.target_lang:
                    raw["target_lang"] = c.target_lang
                if c.dictionary_json:
                    raw["dictionary"] = _json_field(c.dictionary_json, "dictionary_json", seq)
                if c.client_time:
                    raw["client_time"] = c.client_time
                await conn.on_message(parse_client_message(raw))
            else:
                raise ProtocolError("INVALID_MESSAGE", "empty ClientMessage (set hello, audio, text or control)", seq)
        except ProtocolError as exc:
            await conn.send_error(exc)


async def start_grpc_server(state: Any) -> tuple[Any, int]:
    settings = state.settings
    server = grpc.aio.server(options=[
        ("grpc.max_receive_message_length", settings.sizes.max_message_bytes),
        ("grpc.keepalive_time_ms", int(settings.timeouts.heartbeat_interval_s * 1000)),
        ("grpc.keepalive_timeout_ms", int(settings.timeouts.heartbeat_timeout_s * 1000)),
    ])
    pb_grpc.add_RealtimeTranslateServicer_to_server(RealtimeServicer(state), server)
    address = f"{settings.host}:{settings.grpc_port}"
    if settings.tls.enabled:
        from pathlib import Path

        creds = grpc.ssl_server_credentials(
            [(Path(settings.tls.keyfile).read_bytes(), Path(settings.tls.certfile).read_bytes())]
        )
        port = server.add_secure_port(address, creds)
    else:
        port = server.add_insecure_port(address)
    if port == 0:
        raise RuntimeError(f"gRPC could not bind {address}")
    await server.start()
    log.info("gRPC listening on %s:%d", settings.host, port)
    return server, port
