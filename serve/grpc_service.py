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
import logging
from collections.abc import AsyncIterator
from typing import Any

import grpc

from rtt.protocol import Control, ProtocolError
from serve.auth import bearer_from_header
from serve.grpc_gen import realtime_pb2 as pb
from serve.grpc_gen import realtime_pb2_grpc as pb_grpc
from serve.realtime import RealtimeConnection
from serve.wire.proto import client_from_proto, to_proto

log = logging.getLogger("serve.grpc")
OUT_QUEUE = 64


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
        try:
            if req.WhichOneof("kind") == "audio":
                await conn.on_audio(bytes(req.audio.data), req.seq if req.has_seq else None)
            else:
                await conn.on_message(client_from_proto(req))
        except ProtocolError as exc:
            await conn.send_error(exc)
        except Exception:  # a bug must not end the read loop: the call would hang to its deadline
            log.exception("grpc message failed")
            await conn.send_error(ProtocolError("INTERNAL", "processing this message failed"))


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
