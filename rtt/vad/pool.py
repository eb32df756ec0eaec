"""Voice activity detectors reused across sessions.

Each Silero detector is a native ONNX Runtime session of ~6 MB.  Built per session and left to
the garbage collector, they made the service's memory grow with every session it ever served
(freed late, and then not returned to the OS).  A session borrows one, resets it and gives it
back when it closes, so the number that exists follows the peak of concurrent sessions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from rtt.vad.base import Vad


class VadPool:
    def __init__(self, build: Callable[[], Vad], keep: int = 64) -> None:
        self._build = build
        self._keep = keep  # idle detectors kept; more are dropped when given back
        self._idle: list[Vad] = []
        self._lock = threading.Lock()
        self.built = 0

    def acquire(self) -> Vad:
        with self._lock:
            if self._idle:
                return self._idle.pop()
            self.built += 1
        return self._build()

    def release(self, vad: Vad) -> None:
        vad.reset()  # recurrent state must not leak from one stream into the next
        with self._lock:
            if len(self._idle) < self._keep:
                self._idle.append(vad)

    @property
    def idle(self) -> int:
        return len(self._idle)
