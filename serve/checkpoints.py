"""Session checkpoints in Redis, so a session outlives the replica that held it (docs/deploy.md).

With ``serve.redis_url`` set, every realtime session keeps, under ``<prefix>session:<id>``, what
another replica needs to take it over: its options, its dialect, the finals it sent that the
client has not acknowledged (with their event ids), the next event and utterance ids, and
``last_seq``, the *finalized watermark*: every input up to it is inside a final of the checkpoint
or an earlier one.  A checkpoint is written before the final it records goes to the client, so a
final the client saw is always in it.  A client whose replica died reconnects, says ``hello``
with its ``session_id`` (and ``last_event_id``), gets ``resumed: true``, the finals after its
``last_event_id`` again, and ``last_seq``; it re-sends its inputs after ``last_seq`` as on any
resume, and the sentence that was open is translated from them once.

Without Redis nothing is written: a session lives and resumes in its own process, as before.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from rtt.protocol import ServerMessage, SessionConfig

log = logging.getLogger("serve.checkpoints")
CHECKPOINT_VERSION = 1
_MESSAGES: TypeAdapter[Any] = TypeAdapter(ServerMessage)


class SessionCheckpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = CHECKPOINT_VERSION
    session_id: str
    principal_id: str
    transport: str
    protocol_version: int | str
    config: SessionConfig
    last_seq: int | None = None  # the finalized watermark (see the module docstring)
    next_event_id: int = 1
    next_utterance_id: int = 0
    finals: list[dict[str, Any]] = Field(default_factory=list)  # replayable messages, oldest first

    def messages(self) -> list[Any]:
        return [_MESSAGES.validate_python(m) for m in self.finals]


class CheckpointStore(Protocol):
    enabled: bool

    async def save(self, checkpoint: SessionCheckpoint) -> None: ...

    async def load(self, session_id: str) -> SessionCheckpoint | None: ...

    async def delete(self, session_id: str) -> None: ...

    async def close(self) -> None: ...


class NoCheckpoints:
    """Single process: the session table is the only state, nothing to write."""

    enabled = False

    async def save(self, checkpoint: SessionCheckpoint) -> None:
        return None

    async def load(self, session_id: str) -> SessionCheckpoint | None:
        return None

    async def delete(self, session_id: str) -> None:
        return None

    async def close(self) -> None:
        return None


class RedisCheckpoints:
    enabled = True

    def __init__(self, url: str, prefix: str, ttl_s: float) -> None:
        import redis.asyncio as aioredis

        self._redis = aioredis.from_url(url)
        self._prefix = prefix
        self._ttl_ms = max(1000, int(ttl_s * 1000))

    def _key(self, session_id: str) -> str:
        return f"{self._prefix}session:{session_id}"

    async def save(self, checkpoint: SessionCheckpoint) -> None:
        await self._redis.set(self._key(checkpoint.session_id), checkpoint.model_dump_json(), px=self._ttl_ms)

    async def load(self, session_id: str) -> SessionCheckpoint | None:
        raw = await self._redis.get(self._key(session_id))
        if raw is None:
            return None
        try:
            return SessionCheckpoint.model_validate_json(raw)
        except ValueError:
            log.warning("session %s: unreadable checkpoint ignored", session_id[:40])
            return None

    async def delete(self, session_id: str) -> None:
        await self._redis.delete(self._key(session_id))

    async def close(self) -> None:
        await self._redis.aclose()


def make_checkpoint_store(redis_url: str | None, prefix: str, ttl_s: float) -> CheckpointStore:
    return RedisCheckpoints(redis_url, prefix, ttl_s) if redis_url else NoCheckpoints()
