"""The session's outgoing event queue: bounded for partials, never lossy for finals.

A slow consumer must not make the pipeline wait (that would stall ASR on the event loop) nor
grow memory without bound; partials are superseded by later ones anyway, so when the queue is
full the oldest partial is dropped and the newest kept.  Finals are always queued.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator

from rtt.pipeline.events import Event, PartialAsr, PartialTranslation

DROPPABLE = (PartialAsr, PartialTranslation)


class EventChannel:
    def __init__(self, max_pending: int = 256) -> None:
        self.max_pending = max_pending
        self._items: deque[Event] = deque()
        self._ready = asyncio.Event()
        self._closed = False
        self.dropped = 0

    def put(self, event: Event) -> None:
        if self._closed:
            return
        if len(self._items) >= self.max_pending and isinstance(event, DROPPABLE):
            for i, old in enumerate(self._items):
                if isinstance(old, DROPPABLE):
                    del self._items[i]
                    self.dropped += 1
                    break
        self._items.append(event)
        self._ready.set()

    def close(self) -> None:
        self._closed = True
        self._ready.set()

    @property
    def closed(self) -> bool:
        return self._closed

    def __len__(self) -> int:
        return len(self._items)

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            while self._items:
                yield self._items.popleft()
            if self._closed:
                return
            self._ready.clear()
            if not self._items and not self._closed:
                await self._ready.wait()
