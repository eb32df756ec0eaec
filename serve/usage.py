"""Usage metering per API key: the design's pricing basis (audio minutes in, MT tokens per
tier, TTS minutes out), plus characters translated and sessions with their duration.

Amounts are added to hourly buckets per principal (``k:<key hash prefix>``; no content is ever
stored): in process memory by default, in Redis hashes when ``serve.redis_url`` is set, so
replicas behind one Redis add up.  ``GET /v1/usage?from=&to=`` sums the buckets of the caller's
key (an admin key may ask for every key).  The same amounts are Prometheus counters labelled
by the key's hash (``rtt_usage_*``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Mapping
from typing import Any, Protocol

log = logging.getLogger("rtt.serve")

HOUR_S = 3600
# Per-tier amounts are stored as "<name>.<tier>"; the others by name.
FIELDS = ("audio_seconds", "tts_seconds", "sessions", "session_seconds", "mt_characters", "mt_tokens")
PER_TIER = ("mt_characters", "mt_tokens")
REDIS_TTL_S = 400 * 24 * HOUR_S  # a bit over a year of buckets


def hour_of(t: float) -> int:
    return int(t // HOUR_S)


class UsageStore(Protocol):
    async def add(self, principal: str, hour: int, amounts: Mapping[str, float]) -> None: ...

    async def read(self, principal: str | None, first_hour: int, last_hour: int) -> dict[str, dict[str, float]]:
        """Sums per principal (one, or all when None) over the hours ``first_hour..last_hour``."""
        ...

    async def close(self) -> None: ...


class MemoryUsageStore:
    def __init__(self) -> None:
        self._buckets: dict[tuple[str, int], dict[str, float]] = defaultdict(lambda: defaultdict(float))

    async def add(self, principal: str, hour: int, amounts: Mapping[str, float]) -> None:
        bucket = self._buckets[(principal, hour)]
        for k, v in amounts.items():
            bucket[k] += v

    async def read(self, principal: str | None, first_hour: int, last_hour: int) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for (who, hour), bucket in self._buckets.items():
            if (principal is None or who == principal) and first_hour <= hour <= last_hour:
                for k, v in bucket.items():
                    out[who][k] += v
        return {k: dict(v) for k, v in out.items()}

    async def close(self) -> None:
        return None


class RedisUsageStore:
    """One hash per principal and hour: ``<prefix>usage:<principal>:<hour>``."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis.asyncio as aioredis

        self._redis: Any = aioredis.from_url(url)
        self._prefix = f"{prefix}usage:"

    async def add(self, principal: str, hour: int, amounts: Mapping[str, float]) -> None:
        key = f"{self._prefix}{principal}:{hour}"
        pipe = self._redis.pipeline()
        for k, v in amounts.items():
            pipe.hincrbyfloat(key, k, v)
        pipe.expire(key, REDIS_TTL_S)
        await pipe.execute()

    async def read(self, principal: str | None, first_hour: int, last_hour: int) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        pattern = f"{self._prefix}{principal if principal is not None else '*'}:*"
        async for raw in self._redis.scan_iter(match=pattern):
            key = raw.decode() if isinstance(raw, bytes) else raw
            who, _, hour = key[len(self._prefix):].rpartition(":")
            if not hour.isdigit() or not first_hour <= int(hour) <= last_hour:
                continue
            for k, v in (await self._redis.hgetall(key)).items():
                name = k.decode() if isinstance(k, bytes) else k
                out[who][name] += float(v)
        return {k: dict(v) for k, v in out.items()}

    async def close(self) -> None:
        await self._redis.aclose()


def make_usage_store(redis_url: str | None, prefix: str) -> UsageStore:
    return RedisUsageStore(redis_url, prefix) if redis_url else MemoryUsageStore()


def nest(flat: Mapping[str, float]) -> dict[str, Any]:
    """``{"mt_tokens.fast": 3}`` -> ``{"mt_tokens": {"fast": 3}}``; every field present."""
    out: dict[str, Any] = {name: ({} if name in PER_TIER else 0.0) for name in FIELDS}
    for k, v in flat.items():
        name, _, tier = k.partition(".")
        if name in PER_TIER:
            out[name][tier or "default"] = round(out[name].get(tier or "default", 0.0) + v, 3)
        elif name in out:
            out[name] = round(out[name] + v, 3)
    return out


class UsageMeter:
    """Where the service reports what a principal used; never blocks the caller."""

    def __init__(self, store: UsageStore, metrics: Any) -> None:
        self.store = store
        self.metrics = metrics
        self._pending: set[asyncio.Task[None]] = set()

    def record(self, principal: str, *, tier: str | None = None, **amounts: float) -> None:
        """Add ``amounts`` (FIELDS names; per-tier ones under ``tier``) to the current hour."""
        flat = {f"{k}.{tier or 'default'}" if k in PER_TIER else k: float(v) for k, v in amounts.items() if v}
        if not flat:
            return
        label = principal.split(":", 1)[-1] if principal.startswith("k:") else principal
        for k, v in flat.items():
            name, _, t = k.partition(".")
            counter = getattr(self.metrics, f"usage_{name}", None)
            if counter is not None:
                (counter.labels(label, t) if name in PER_TIER else counter.labels(label)).inc(v)
        task = asyncio.get_running_loop().create_task(self._add(principal, flat))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _add(self, principal: str, flat: dict[str, float]) -> None:
        try:
            await self.store.add(principal, hour_of(time.time()), flat)
        except Exception as exc:  # metering must never break a session; the counters still count
            log.warning("usage store write failed: %s", type(exc).__name__)

    async def flush(self) -> None:
        if self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def report(self, principal: str | None, start: float, end: float) -> dict[str, dict[str, Any]]:
        await self.flush()
        sums = await self.store.read(principal, hour_of(start), hour_of(end))
        return {who: nest(flat) for who, flat in sorted(sums.items())}

    async def close(self) -> None:
        await self.flush()
        await self.store.close()
