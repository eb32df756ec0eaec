"""Realtime sessions for clients that can only do plain HTTP: input over REST, results over SSE.

``POST /v1/sessions`` opens a session (body: the ``hello`` fields), ``POST
/v1/sessions/{id}/input`` takes one client message, a list of them, or a raw PCM16LE body, and
``GET /v1/sessions/{id}/events`` streams the same server messages as the WebSocket as
server-sent events (``event:`` = message type, ``id:`` = outbox position).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse

from rtt.protocol import (
    Control,
    Error,
    InputAudio,
    InputResponse,
    InputResult,
    InputText,
    ProtocolError,
    SessionCreatedResponse,
    http_status,
    load_json,
    parse_client_message,
    parse_session_config,
)
from serve.auth import Principal
from serve.sessions import ManagedSession
from serve.state import ServeState, get_state, require_principal

router = APIRouter(tags=["sessions"])
AuthDep = Annotated[Principal, Depends(require_principal)]
KEEPALIVE_S = 15.0


@router.post("/v1/sessions", response_model=SessionCreatedResponse)
async def create_session(request: Request, principal: AuthDep) -> SessionCreatedResponse:
    state = get_state(request)
    config = parse_session_config(await request.body())
    managed = await state.manager.create(principal, config, "sse")
    # Nobody reads the events yet: the resume grace period covers the gap until GET /events.
    managed.detached_at = time.monotonic()
    base = f"/v1/sessions/{managed.id}"
    return SessionCreatedResponse(session_id=managed.id, events_url=f"{base}/events", input_url=f"{base}/input",
                                  limits=state.manager.limits())


async def _submit(managed: ManagedSession, msg: Any, audio: bytes | None = None) -> InputResult:
    try:
        replies = await managed.submit(msg, audio)
    except ProtocolError as exc:
        err = Error(code=exc.code, message=exc.message, retry_after_ms=exc.retry_after_ms, seq=exc.seq)
        return InputResult(seq=exc.seq, accepted=False, error=err)
    duplicate = any(getattr(r, "duplicate", False) for r in replies)
    # A pong or drain has no stream of its own here; the client sees it in the result.
    for reply in replies:
        if reply.type in ("pong", "drain"):
            managed.outbox.put(reply)
    return InputResult(seq=msg.seq, accepted=True, duplicate=duplicate)


@router.post("/v1/sessions/{session_id}/input", response_model=InputResponse)
async def session_input(session_id: str, request: Request, principal: AuthDep) -> JSONResponse:
    state = get_state(request)
    managed = state.manager.get(session_id, principal)
    raw = await request.body()
    limit = state.settings.sizes.max_message_bytes
    if len(raw) > limit:
        raise ProtocolError("FRAME_TOO_LARGE", f"body of {len(raw)} bytes; the limit is {limit}")
    ctype = request.headers.get("content-type", "")
    if ctype.startswith(("application/octet-stream", "audio/pcm", "audio/l16")):
        results = [await _submit(managed, InputAudio(type="input_audio", audio=""), raw)]
    else:
        payload = load_json(raw, "body")
        items = payload if isinstance(payload, list) else payload.get("messages", [payload]) \
            if isinstance(payload, dict) else None
        if not isinstance(items, list) or not items:
            raise ProtocolError("INVALID_MESSAGE", "send a message object, a list, or {\"messages\": [...]}")
        results = []
        for item in items:
            try:
                msg = parse_client_message(item) if isinstance(item, dict) else parse_client_message(json.dumps(item))
                if not isinstance(msg, InputAudio | InputText | Control):
                    raise ProtocolError("INVALID_MESSAGE", "hello goes to POST /v1/sessions", msg.seq)
            except ProtocolError as exc:
                err = Error(code=exc.code, message=exc.message, seq=exc.seq)
                results.append(InputResult(seq=exc.seq, accepted=False, error=err))
                continue
            results.append(await _submit(managed, msg))
    if len(results) == 1 and results[0].error is not None:
        err = results[0].error
        headers = {"Retry-After": str(max(1, err.retry_after_ms // 1000))} if err.retry_after_ms else None
        return JSONResponse({"error": err.model_dump(exclude_none=True)}, status_code=http_status(err.code),
                            headers=headers)
    return JSONResponse(InputResponse(results=results).model_dump(exclude_none=True))


class _SseReader:
    """Registered with the manager so that shutdown waits for this stream to flush."""

    def __init__(self, managed: ManagedSession) -> None:
        self.managed = managed
        self.generation = managed.attach()

    def pending(self) -> int:
        m = self.managed
        return m.outbox.pending() if m.generation == self.generation else 0


def _format(eid: int, message: Any) -> str:
    return f"id: {eid}\nevent: {message.type}\ndata: {message.model_dump_json(exclude_none=True)}\n\n"


@router.get("/v1/sessions/{session_id}/events")
async def session_events(session_id: str, request: Request, principal: AuthDep) -> StreamingResponse:
    state: ServeState = get_state(request)
    managed = state.manager.get(session_id, principal)
    # A reconnecting EventSource sends the last id it received: finals after it go out again.
    last = request.headers.get("last-event-id", "")
    managed.outbox.replay(int(last) if last.isdigit() else None)
    reader = _SseReader(managed)
    state.manager.connections.add(reader)

    async def stream() -> AsyncIterator[str]:
        cursor = 0
        try:
            yield "retry: 1000\n\n"
            while managed.generation == reader.generation:
                try:
                    item = await asyncio.wait_for(managed.outbox.next_after(cursor), KEEPALIVE_S)
                except TimeoutError:
                    yield ": keepalive\n\n"
                    continue
                if item is None or managed.generation != reader.generation:
                    break
                eid, message = item
                state.metrics.messages_out.labels(message.type).inc()
                yield _format(eid, message)
                cursor = eid
                managed.outbox.confirm(eid)
        finally:
            state.manager.connections.discard(reader)
            managed.detach(reader.generation)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)
