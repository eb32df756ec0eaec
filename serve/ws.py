"""WebSocket transport: ``/v1/realtime``, JSON text frames and binary audio frames."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from rtt.protocol import Error, ProtocolError
from serve.realtime import RealtimeConnection
from serve.state import client_addr, credential_of, get_state

log = logging.getLogger("serve.ws")
router = APIRouter()

CLOSE_NORMAL = 1000
CLOSE_UNAUTHORIZED = 4401
CLOSE_HELLO_TIMEOUT = 4408
CLOSE_SHUTDOWN = 1001


@router.websocket("/v1/realtime")
async def realtime(ws: WebSocket) -> None:
    state = get_state(ws)
    await ws.accept()

    async def send(message: Any) -> None:
        await ws.send_text(message.model_dump_json(exclude_none=True))

    try:
        principal = state.auth.authenticate(credential_of(ws), client_addr(ws))
    except ProtocolError as exc:
        # Browsers cannot read an HTTP status on a refused upgrade, so the error goes in a frame.
        await send(Error(code=exc.code, message=exc.message, fatal=True))
        await ws.close(CLOSE_UNAUTHORIZED)
        state.metrics.errors.labels(exc.code, "ws").inc()
        return

    async def close_after_end() -> None:
        with contextlib.suppress(Exception):
            await ws.close(CLOSE_NORMAL)

    conn = RealtimeConnection(state.manager, principal, "ws", send, close_after_end)
    hello_timeout = state.settings.timeouts.hello_s
    try:
        while True:
            timeout = hello_timeout if conn.session is None else None
            try:
                frame = await asyncio.wait_for(ws.receive(), timeout)
            except TimeoutError:
                await conn.send_error(ProtocolError("IDLE_TIMEOUT", f"no hello within {hello_timeout:g} s"), fatal=True)
                await ws.close(CLOSE_HELLO_TIMEOUT)
                break
            kind = frame.get("type")
            if kind == "websocket.disconnect":
                break
            if frame.get("text") is not None:
                await conn.on_text(frame["text"])
            elif frame.get("bytes") is not None:
                await conn.on_binary(frame["bytes"])
    except (WebSocketDisconnect, RuntimeError) as exc:
        # RuntimeError: receive after the server closed the socket (session ended).
        log.debug("ws closed: %s", type(exc).__name__)
    finally:
        await conn.close()
        if ws.application_state == WebSocketState.CONNECTED and ws.client_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await ws.close(CLOSE_NORMAL)
