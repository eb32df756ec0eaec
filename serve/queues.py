"""Per-session bookkeeping that makes delivery robust: idempotent ``seq`` and a bounded outbox.

The outbox sits between a session's event stream and whichever connection is attached.  It
never blocks the producer: a partial result superseded by a newer one of the same kind is
dropped (newest kept), finals are kept until the consumer confirms them.  Entries carry an
increasing id so that a consumer that dies mid-send leaves the entry for the next connection.

A final that was written to a socket may still be lost with the connection (it sat in a
kernel buffer when the peer went away), so written finals move to a window of unacknowledged
ones.  The client acknowledges what it received, by a control ``ack`` or by the
``last_event_id`` of its resuming hello, and a resume sends again whatever came after: each
final reaches a resuming client exactly once.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from typing import Any

from rtt.protocol import DROPPABLE_TYPES, REPLAYABLE_TYPES, ProtocolError


class SeqTracker:
    """Remembers which ``seq`` numbers were processed (a sliding window of the latest ones)."""

    def __init__(self, window: int = 4096) -> None:
        self.window = window
        self.last: int | None = None
        self._seen: set[int] = set()
        self._order: deque[int] = deque()
        self._forgotten: int | None = None  # highest seq evicted from the window

    def is_duplicate(self, seq: int | None) -> bool:
        """True when ``seq`` was processed; raises ``SEQ_OUT_OF_ORDER`` for a skipped lower number."""
        if seq is None or self.last is None:
            return False
        if seq in self._seen:
            return True
        if seq > self.last:
            return False
        if self._forgotten is not None and seq <= self._forgotten:
            return True  # older than the window: treat as processed long ago, never redo it
        raise ProtocolError(
            "SEQ_OUT_OF_ORDER", f"seq {seq} arrived after seq {self.last} and was never processed", seq
        )

    def restore(self, last: int | None) -> None:
        """Everything up to ``last`` counts as processed (a session taken over from a checkpoint)."""
        self.last = last
        self._forgotten = last

    def mark(self, seq: int | None) -> None:
        if seq is None:
            return
        self._seen.add(seq)
        self._order.append(seq)
        self.last = seq if self.last is None else max(self.last, seq)
        while len(self._order) > self.window:
            old = self._order.popleft()
            self._seen.discard(old)
            self._forgotten = old if self._forgotten is None else max(self._forgotten, old)


class SlowConsumer(Exception):
    pass


@dataclass
class _Entry:
    eid: int
    message: Any  # an rtt.protocol server message


class Outbox:
    def __init__(self, max_items: int, max_pending_finals: int, replay_window: int = 512) -> None:
        self.max_items = max_items
        self.max_pending_finals = max_pending_finals
        self._entries: deque[_Entry] = deque()
        # Written but not acknowledged finals, oldest first; the oldest fall out past the window.
        self._unacked: deque[_Entry] = deque(maxlen=replay_window)
        self._next_id = 1
        self._changed = asyncio.Event()
        self.closed = False
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._entries)

    def put(self, message: Any) -> None:
        if self.closed:
            return
        kind = getattr(message, "type", "")
        if kind in DROPPABLE_TYPES:
            self._supersede(message)
            if len(self._entries) >= self.max_items and not self._drop_oldest_droppable():
                self.dropped += 1
                return
        elif len(self._entries) >= self.max_pending_finals:
            raise SlowConsumer(f"{len(self._entries)} results not read by the client")
        if kind in REPLAYABLE_TYPES:
            message.event_id = self._next_id
        self._entries.append(_Entry(self._next_id, message))
        self._next_id += 1
        self._changed.set()

    def _supersede(self, message: Any) -> None:
        # A newer partial of the same utterance replaces one the client has not read yet.
        utt = getattr(message, "utterance_id", None)
        if utt is None:
            return
        for entry in self._entries:
            m = entry.message
            # Per target: a session with several listener languages has one partial stream each.
            if (m.type == message.type and getattr(m, "utterance_id", None) == utt
                    and getattr(m, "target_lang", None) == getattr(message, "target_lang", None)):
                self._entries.remove(entry)
                self.dropped += 1
                return

    def _drop_oldest_droppable(self) -> bool:
        for entry in self._entries:
            if entry.message.type in DROPPABLE_TYPES:
                self._entries.remove(entry)
                self.dropped += 1
                return True
        return False

    def drop_partials(self) -> None:
        """Nobody is attached: partials would be stale by the time anyone reads them."""
        keep = deque(e for e in self._entries if e.message.type not in DROPPABLE_TYPES)
        self.dropped += len(self._entries) - len(keep)
        self._entries = keep

    def close(self) -> None:
        self.closed = True
        self._changed.set()

    async def next_after(self, cursor: int) -> tuple[int, Any] | None:
        """The first entry with id > ``cursor``; ``None`` once closed and fully read."""
        while True:
            for entry in self._entries:
                if entry.eid > cursor:
                    return entry.eid, entry.message
            if self.closed:
                return None
            self._changed.clear()
            await self._changed.wait()

    def confirm(self, eid: int) -> None:
        """The consumer wrote everything up to ``eid`` (finals stay until acknowledged)."""
        while self._entries and self._entries[0].eid <= eid:
            entry = self._entries.popleft()
            if entry.message.type in REPLAYABLE_TYPES:
                self._unacked.append(entry)

    def acknowledge(self, event_id: int) -> None:
        """The client received every final up to ``event_id``."""
        while self._unacked and self._unacked[0].eid <= event_id:
            self._unacked.popleft()

    def replay(self, after: int | None) -> int:
        """A resume: finals written after ``after`` (all kept ones when None) go out again first."""
        if after is not None:
            self.acknowledge(after)
        again = list(self._unacked)
        self._unacked.clear()
        self._entries.extendleft(reversed(again))
        if again:
            self._changed.set()
        return len(again)

    @property
    def next_event_id(self) -> int:
        """The id the next message put gets (a checkpoint records a final under it first)."""
        return self._next_id

    def replayable(self) -> list[Any]:
        """Finals written or waiting to be, not acknowledged: what a checkpoint keeps, oldest first."""
        waiting = [e.message for e in self._entries if e.message.type in REPLAYABLE_TYPES]
        return [e.message for e in self._unacked] + waiting

    def restore(self, next_event_id: int, unacknowledged: list[Any]) -> None:
        """Take over a checkpoint: ids continue from it, its finals wait for a replay."""
        self._next_id = max(self._next_id, next_event_id)
        self._unacked.extend(_Entry(int(m.event_id), m) for m in unacknowledged)

    def unacknowledged(self) -> int:
        return len(self._unacked)

    def pending(self) -> int:
        return len(self._entries)
