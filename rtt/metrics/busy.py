"""How long each model computed: the lock an engine holds around every model call, counting
the seconds it was held (``rtt_model_busy_seconds_total{engine}``).

A model that is busy 0.95 s of every second is the bottleneck whatever the queue depths say;
its busy seconds are also the cost basis when engines share a machine.  Held time is measured
inside the lock, so the counter needs no lock of its own.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType


class BusyLock:
    """A ``threading.Lock`` that adds up the seconds it was held."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._since = 0.0
        self.seconds = 0.0
        self.holds = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        got = self._lock.acquire(blocking, timeout)
        if got:
            self._since = time.perf_counter()
        return got

    def release(self) -> None:
        self.seconds += time.perf_counter() - self._since
        self.holds += 1
        self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def busy_seconds(engine: object) -> float | None:
    """An engine's model seconds so far (its ``busy_seconds()``), or None if it does not count."""
    fn = getattr(engine, "busy_seconds", None)
    return float(fn()) if callable(fn) else None
