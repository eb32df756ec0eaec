"""Per-key limits: requests and audio seconds per minute, concurrent sessions.

Counters live in a :class:`LimitStore`: in-process by default, Redis when ``redis_url`` is set so
that every server process behind one load balancer enforces the same budget.  Rates use fixed
one-minute windows (a burst at a window edge can reach twice the rate for a moment; the budget
per minute holds).  Session slots are members of a sorted set scored by a lease expiry that the
owning process refreshes, so a crashed process's slots free themselves.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any, Protocol

from rtt.protocol import ProtocolError
from serve.auth import Principal
from serve.settings import LimitSettings

WINDOW_S = 60.0
SLOT_LEASE_S = 90.0


class LimitStore(Protocol):
    async def consume(self, key: str, amount: float, limit: float, ttl_s: float) -> bool:
        """Add ``amount`` to counter ``key`` if that stays within ``limit``; the counter dies after ``ttl_s``."""
        ...

    async def acquire_slot(self, key: str, member: str, limit: int, lease_s: float) -> bool: ...

    async def refresh_slots(self, key: str, members: list[str], lease_s: float) -> None: ...

    async def release_slot(self, key: str, member: str) -> None: ...

    async def forget(self, key_prefix: str) -> None: ...

    async def close(self) -> None: ...


class MemoryLimitStore:
    """One process's counters (asyncio-only: all callers run on the server's event loop)."""

    def __init__(self) -> None:
        self._counters: dict[str, tuple[float, float]] = {}  # key -> (window expiry, used)
        self._slots: dict[str, dict[str, float]] = {}  # key -> member -> lease expiry

    async def consume(self, key: str, amount: float, limit: float, ttl_s: float) -> bool:
        now = time.time()
        expiry, used = self._counters.get(key, (0.0, 0.0))
        if expiry <= now:
            expiry, used = now + ttl_s, 0.0
        if used + amount > limit:
            return False
        self._counters[key] = (expiry, used + amount)
        if len(self._counters) > 10_000:  # old windows of departed keys
            self._counters = {k: v for k, v in self._counters.items() if v[0] > now}
        return True

    async def acquire_slot(self, key: str, member: str, limit: int, lease_s: float) -> bool:
        now = time.time()
        slots = {m: t for m, t in self._slots.get(key, {}).items() if t > now}
        if member not in slots and len(slots) >= limit:
            self._slots[key] = slots
            return False
        slots[member] = now + lease_s
        self._slots[key] = slots
        return True

    async def refresh_slots(self, key: str, members: list[str], lease_s: float) -> None:
        slots = self._slots.get(key, {})
        for m in members:
            if m in slots:
                slots[m] = time.time() + lease_s

    async def release_slot(self, key: str, member: str) -> None:
        slots = self._slots.get(key)
        if slots is not None:
            slots.pop(member, None)
            if not slots:
                del self._slots[key]

    async def forget(self, key_prefix: str) -> None:
        self._counters = {k: v for k, v in self._counters.items() if not k.startswith(key_prefix)}

    async def close(self) -> None:
        return None


_CONSUME_LUA = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local amount = tonumber(ARGV[1])
if used + amount > tonumber(ARGV[2]) then return 0 end
redis.call('INCRBYFLOAT', KEYS[1], amount)
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 1
"""

_ACQUIRE_LUA = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if not redis.call('ZSCORE', KEYS[1], ARGV[3]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
"""


class RedisLimitStore:
    """Counters shared by every process that points at the same Redis (atomic Lua scripts)."""

    def __init__(self, url: str, prefix: str = "rtt:") -> None:
        import redis.asyncio as aioredis

        self._redis: Any = aioredis.from_url(url)
        self._prefix = prefix
        self._consume = self._redis.register_script(_CONSUME_LUA)
        self._acquire = self._redis.register_script(_ACQUIRE_LUA)

    def _k(self, key: str) -> str:
        return f"{self._prefix}{key}"

    async def ping(self) -> bool:
        return bool(await self._redis.ping())

    async def consume(self, key: str, amount: float, limit: float, ttl_s: float) -> bool:
        ok = await self._consume(keys=[self._k(key)], args=[amount, limit, max(1, int(ttl_s * 1000))])
        return bool(ok)

    async def acquire_slot(self, key: str, member: str, limit: int, lease_s: float) -> bool:
        now = time.time()
        ok = await self._acquire(
            keys=[self._k(key)], args=[now, now + lease_s, member, limit, int(lease_s * 2000)]
        )
        return bool(ok)

    async def refresh_slots(self, key: str, members: list[str], lease_s: float) -> None:
        if members:
            expiry = time.time() + lease_s
            await self._redis.zadd(self._k(key), {m: expiry for m in members}, xx=True)

    async def release_slot(self, key: str, member: str) -> None:
        await self._redis.zrem(self._k(key), member)

    async def forget(self, key_prefix: str) -> None:
        async for k in self._redis.scan_iter(match=self._k(key_prefix) + "*"):
            await self._redis.delete(k)

    async def close(self) -> None:
        await self._redis.aclose()


class RateLimiter:
    def __init__(self, store: LimitStore, limits: LimitSettings) -> None:
        self.store = store
        self.limits = limits

    @staticmethod
    def _retry_after_ms() -> int:
        # Fixed windows reset on minute boundaries shared by every process.
        now = time.time()
        return max(1, int(math.ceil((WINDOW_S - now % WINDOW_S) * 1000)))

    async def _consume(self, principal: Principal, what: str, amount: float, limit: float) -> bool:
        # The window index is part of the key so that every process agrees on when it resets.
        now = time.time()
        key = f"{what}:{principal.id}:{int(now // WINDOW_S)}"
        return await self.store.consume(key, amount, limit, WINDOW_S - now % WINDOW_S + 1.0)

    async def check_request(self, principal: Principal, cost: float = 1.0) -> None:
        if not await self._consume(principal, "req", cost, self.limits.requests_per_minute):
            raise ProtocolError(
                "RATE_LIMIT",
                f"more than {self.limits.requests_per_minute} requests per minute",
                retry_after_ms=self._retry_after_ms(),
            )

    async def check_audio(self, principal: Principal, seconds: float, seq: int | None = None) -> None:
        if not await self._consume(principal, "audio", seconds, self.limits.audio_seconds_per_minute):
            raise ProtocolError(
                "RATE_LIMIT",
                f"more than {self.limits.audio_seconds_per_minute:g} audio seconds per minute",
                seq=seq,
                retry_after_ms=self._retry_after_ms(),
            )

    async def open_session(self, principal: Principal, session_id: str) -> None:
        ok = await self.store.acquire_slot(
            f"sessions:{principal.id}", session_id, self.limits.concurrent_sessions, SLOT_LEASE_S
        )
        if not ok:
            raise ProtocolError(
                "RATE_LIMIT",
                f"more than {self.limits.concurrent_sessions} concurrent sessions for this key",
                retry_after_ms=5000,
            )

    async def close_session(self, principal: Principal, session_id: str) -> None:
        await self.store.release_slot(f"sessions:{principal.id}", session_id)

    async def refresh(self, sessions: dict[str, list[str]]) -> None:
        for principal_id, members in sessions.items():
            await self.store.refresh_slots(f"sessions:{principal_id}", members, SLOT_LEASE_S)

    async def forget(self, principal: Principal) -> None:
        for what in ("req", "audio"):
            await self.store.forget(f"{what}:{principal.id}")


def make_limit_store(redis_url: str | None, prefix: str) -> LimitStore:
    if redis_url:
        return RedisLimitStore(redis_url, prefix)
    return MemoryLimitStore()


async def wait_ready(store: LimitStore, timeout_s: float = 5.0) -> None:
    """Fail start-up early when Redis is configured but unreachable."""
    if isinstance(store, RedisLimitStore):
        await asyncio.wait_for(store.ping(), timeout_s)
