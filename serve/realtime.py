"""The realtime protocol over one bidirectional connection, independent of the transport.

The WebSocket endpoint and the gRPC servicer each wrap a :class:`RealtimeConnection`: they
hand it parsed messages (or raw frames) and give it a ``send`` coroutine.  The connection owns
the ``hello`` handshake (new session or resume), turns every bad input into a structured
``error`` without ending the session, and runs the sender task that moves the attached
session's outbox onto the wire.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError

from rtt.protocol import (
    DESIGN_VERSION,
    PROTOCOL_VERSION,
    SUPPORTED_VERSIONS,
    Control,
    Error,
    Hello,
    InputAudio,
    InputText,
    ProtocolError,
    SessionConfig,
    SessionCreated,
    load_json_object,
    parse_client_message,
    validation_error,
)
from serve.auth import Principal
from serve.sessions import ManagedSession, SessionManager
from serve.wire import design

log = logging.getLogger("serve.realtime")

Send = Callable[[Any], Awaitable[None]]


class RealtimeConnection:
    def __init__(
        self,
        manager: SessionManager,
        principal: Principal,
        transport: str,
        send: Send,
        on_session_end: Callable[[], Awaitable[None]] | None = None,
        defaults: dict[str, Any] | None = None,
    ) -> None:
        self.manager = manager
        # Hello fields given by the transport (WebSocket query parameters); hello overrides them.
        self.defaults = defaults or {}
        # The dialect this connection speaks, set by its hello: 1 or DESIGN_VERSION.
        self.version: int | str = PROTOCOL_VERSION
        self.ignored_features: list[str] = []
        self.principal = principal
        self.transport = transport
        self._send_raw = send
        self._on_session_end = on_session_end
        self._send_lock = asyncio.Lock()
        self.session: ManagedSession | None = None
        self._generation = 0
        self._sender: asyncio.Task[None] | None = None
        self.closed = False
        manager.connections.add(self)

    def pending(self) -> int:
        s = self.session
        if s is None or self._sender is None or self._sender.done() or s.generation != self._generation:
            return 0
        return s.outbox.pending()

    async def send(self, message: Any) -> None:
        if self.closed:
            return
        if isinstance(message, Error):
            self.manager.metrics.errors.labels(message.code, self.transport).inc()
        self.manager.metrics.messages_out.labels(message.type).inc()
        async with self._send_lock:
            await self._send_raw(message)

    async def send_error(self, exc: ProtocolError, fatal: bool = False) -> None:
        await self.send(Error(code=exc.code, message=exc.message, retry_after_ms=exc.retry_after_ms,
                              seq=exc.seq, fatal=fatal))

    # -- inbound -------------------------------------------------------------------------------
    async def on_text(self, raw: str | bytes) -> None:
        """One JSON text frame."""
        limit = self.manager.settings.sizes.max_message_bytes
        size = len(raw.encode("utf-8") if isinstance(raw, str) else raw)
        if size > limit:
            await self.send_error(ProtocolError("FRAME_TOO_LARGE", f"message of {size} bytes; the limit is {limit}"))
            return
        try:
            msg = parse_client_message(self._to_v1(load_json_object(raw)))
        except ProtocolError as exc:
            self.manager.metrics.messages_in.labels("invalid").inc()
            await self.send_error(exc)
            return
        await self.on_message(msg)

    def _to_v1(self, obj: dict[str, Any]) -> dict[str, Any]:
        """The design dialect's shapes as version 1's (a design hello also sets the dialect)."""
        if self.session is None and design.is_design_hello(obj):
            obj, self.ignored_features = design.hello_to_v1(obj)
            self.version = DESIGN_VERSION
        elif self.version == DESIGN_VERSION:
            obj = design.client_to_v1(obj)
        return obj

    async def on_binary(self, data: bytes) -> None:
        """One binary frame: audio in the format declared in hello (no seq)."""
        await self.on_audio(data, None)

    async def on_audio(self, data: bytes, seq: int | None) -> None:
        """Raw audio bytes (WebSocket binary frame, gRPC Audio message)."""
        self.manager.metrics.messages_in.labels("binary_audio").inc()
        if self.session is None:
            await self.send_error(ProtocolError("HELLO_REQUIRED", "send hello before audio", seq))
            return
        await self._submit(InputAudio(type="input_audio", audio="", seq=seq), data)

    async def on_message(self, msg: Hello | InputAudio | InputText | Control) -> None:
        self.manager.metrics.messages_in.labels(msg.type).inc()
        if isinstance(msg, Hello):
            await self._hello(msg)
            return
        if self.session is None:
            await self.send_error(ProtocolError("HELLO_REQUIRED", f"send hello before {msg.type}", msg.seq))
            return
        await self._submit(msg, None)

    async def _submit(self, msg: InputAudio | InputText | Control, audio: bytes | None) -> None:
        assert self.session is not None
        try:
            replies = await self.session.submit(msg, audio)
        except ProtocolError as exc:
            await self.send_error(exc)
            return
        for reply in replies:
            await self.send(reply)

    async def _hello(self, hello: Hello) -> None:
        if self.session is not None:
            await self.send_error(ProtocolError("ALREADY_STARTED", "this connection already has a session", hello.seq))
            return
        if hello.version not in SUPPORTED_VERSIONS:
            served = ", ".join(repr(v) for v in SUPPORTED_VERSIONS)
            await self.send_error(ProtocolError(
                "UNSUPPORTED_VERSION", f"protocol version {hello.version!r} is not served (use one of {served})",
                hello.seq))
            return
        self.version = hello.version
        try:
            if hello.session_id:
                try:
                    managed = self.manager.get(hello.session_id, self.principal)
                except ProtocolError:
                    # Held by a replica that is gone? Its checkpoint (serve/checkpoints.py) says.
                    restored = await self.manager.restore(hello.session_id, self.principal)
                    if restored is None:
                        raise
                    managed = restored
                resumed = True
                replayed: int | None = managed.outbox.replay(hello.last_event_id)
            else:
                config = self._session_config(hello)
                managed = await self.manager.create(self.principal, config, self.transport, hello.seq,
                                                    version=hello.version)
                resumed, replayed = False, None
        except ProtocolError as exc:
            exc.seq = hello.seq
            await self.send_error(exc)
            return
        self.session = managed
        self._generation = managed.attach()
        created = SessionCreated(session_id=managed.id, resumed=resumed, last_seq=managed.seq.last,
                                 replayed=replayed, config=managed.config, limits=self.manager.limits(),
                                 version=hello.version, served_by=self.manager.served_by())
        if hello.version == DESIGN_VERSION:
            f = managed.config.features
            created.features = [name for name in design.FEATURE_NAMES if getattr(f, name)]
            created.ignored_features = self.ignored_features
        await self.send(created)
        self._sender = asyncio.get_running_loop().create_task(self._run_sender(managed, self._generation))

    def _session_config(self, hello: Hello) -> SessionConfig:
        """Hello's session fields over the transport's defaults (fields hello sets win)."""
        fields = {k: getattr(hello, k) for k in SessionConfig.model_fields if k in hello.model_fields_set}
        merged = {**self.defaults, **fields}
        if merged.get("target_lang") is None and not merged.get("target_langs"):
            raise ProtocolError("MISSING_FIELD", "field 'target_lang' is required", hello.seq)
        try:
            return SessionConfig.model_validate(merged)
        except ValidationError as exc:
            raise validation_error(exc, hello.seq, tagged=False) from None

    # -- outbound ------------------------------------------------------------------------------
    async def _run_sender(self, managed: ManagedSession, generation: int) -> None:
        cursor = 0
        try:
            while managed.generation == generation:
                item = await managed.outbox.next_after(cursor)
                if item is None:
                    break
                eid, message = item
                if managed.generation != generation:
                    return  # taken over: leave the entry for the new connection
                await self.send(message)
                cursor = eid
                managed.outbox.confirm(eid)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the peer went away mid-send
            log.debug("sender for %s stopped: %s", managed.id, type(exc).__name__)
            return
        if managed.generation == generation and managed.state == "closed" and self._on_session_end:
            await self._on_session_end()

    async def close(self) -> None:
        """The transport is gone: detach (the session waits for a resume)."""
        if self.closed:
            return
        self.closed = True
        self.manager.connections.discard(self)
        if self._sender is not None:
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._sender
        if self.session is not None:
            self.session.detach(self._generation)
