"""Everything one app instance shares between requests, built once by the app factory."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from fastapi import Request
from starlette.requests import HTTPConnection

from rtt.config import RttConfig
from rtt.protocol import ProtocolError
from serve.auth import Authenticator, Principal, bearer_from_header
from serve.backend import Backend
from serve.limits import RateLimiter
from serve.metrics import Metrics
from serve.retention import TranscriptStore
from serve.sessions import SessionManager
from serve.settings import ServeSettings
from serve.usage import UsageMeter


class InflightGate:
    """Bounds model calls in flight for REST; callers past ``max_waiting`` are told to come back."""

    def __init__(self, max_inflight: int, max_waiting: int) -> None:
        self._sem = asyncio.Semaphore(max_inflight)
        self.max_waiting = max_waiting
        self.waiting = 0

    async def __aenter__(self) -> None:
        if self._sem.locked() and self.waiting >= self.max_waiting:
            raise ProtocolError("OVERLOADED", "too many requests in flight", retry_after_ms=1000)
        self.waiting += 1
        try:
            await self._sem.acquire()
        finally:
            self.waiting -= 1

    async def __aexit__(self, *exc: object) -> None:
        self._sem.release()


class TransportPeer(Protocol):
    """A connection the server must close itself on shutdown (a WebRTC peer connection)."""

    async def close(self) -> None: ...


@dataclass
class ServeState:
    config: RttConfig
    settings: ServeSettings
    backend: Backend
    auth: Authenticator
    limiter: RateLimiter
    metrics: Metrics
    transcripts: TranscriptStore
    usage: UsageMeter
    manager: SessionManager
    executor: ThreadPoolExecutor
    gate: InflightGate
    grpc_port: int | None = None
    peers: set[TransportPeer] = field(default_factory=set)
    extras: dict[str, Any] = field(default_factory=dict)

    async def run_blocking(self, fn: Any, *args: Any) -> Any:
        """Model calls are slow and synchronous: never on the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)


def get_state(conn: HTTPConnection) -> ServeState:
    state: ServeState = conn.app.state.rtt
    return state


def credential_of(conn: HTTPConnection) -> str | None:
    return (
        bearer_from_header(conn.headers.get("authorization"))
        or conn.query_params.get("token")
        or conn.query_params.get("api_key")
    )


def client_addr(conn: HTTPConnection) -> str:
    return conn.client.host if conn.client else "unknown"


async def require_principal(request: Request) -> Principal:
    state = get_state(request)
    return state.auth.authenticate(credential_of(request), client_addr(request))
