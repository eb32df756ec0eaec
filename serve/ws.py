"""WebSocket transport: ``/v1/realtime``, JSON text frames and binary audio frames."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import types
import typing
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from rtt.protocol import DESIGN_VERSION, Error, ProtocolError, SessionConfig
from serve.realtime import RealtimeConnection
from serve.state import client_addr, credential_of, get_state
from serve.wire import design

log = logging.getLogger("serve.ws")
router = APIRouter()

CLOSE_NORMAL = 1000
CLOSE_UNAUTHORIZED = 4401
CLOSE_HELLO_TIMEOUT = 4408
CLOSE_SHUTDOWN = 1001
# Query parameters that stand for hello fields (``/v1/realtime?target_lang=en``): the string
# fields of a session config; hello overrides them.
def _stringish(annotation: Any) -> bool:
    if annotation is str or annotation is type(None):
        return True
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        return all(isinstance(a, str) for a in args)
    if origin in (typing.Union, types.UnionType):
        return all(_stringish(a) for a in args)
    return False


QUERY_DEFAULTS = frozenset(name for name, f in SessionConfig.model_fields.items() if _stringish(f.annotation))


def hello_defaults(query: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in query.items() if k in QUERY_DEFAULTS and v}


@router.websocket("/v1/realtime")
async def realtime(ws: WebSocket) -> None:
    state = get_state(ws)
    await ws.accept()

    async def send(message: Any) -> None:
        if conn is not None and conn.version == DESIGN_VERSION:
            await ws.send_text(json.dumps(design.render(message), ensure_ascii=False))
        else:
            await ws.send_text(message.model_dump_json(exclude_none=True))

    conn: RealtimeConnection | None = None

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

    conn = RealtimeConnection(state.manager, principal, "ws", send, close_after_end,
                              defaults=hello_defaults(dict(ws.query_params)))
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
