"""Reorders numbered packets and drops duplicates before they reach the decoder.

Clients over UDP-like transports (WebRTC data channels, some WebSocket relays) may deliver
packets out of order or twice.  Packets are released in ``seq`` order; when a gap persists for
more than ``max_delay`` packets the missing ones are given up on (reported as lost), because
waiting longer would add latency to every following packet.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class JitterStats:
    received: int = 0
    duplicates: int = 0
    late: int = 0  # arrived after their slot was given up on
    lost: int = 0  # never arrived in time


class JitterBuffer:
    def __init__(self, max_delay: int = 4, first_seq: int | None = None) -> None:
        if max_delay < 0:
            raise ValueError("max_delay must be >= 0")
        self.max_delay = max_delay
        self._next: int | None = first_seq
        self._pending: dict[int, bytes] = {}
        self.stats = JitterStats()

    def push(self, seq: int, payload: bytes) -> list[bytes]:
        """Add one packet; return the payloads that are now ready, in order."""
        self.stats.received += 1
        if self._next is None:
            self._next = seq
        if seq < self._next:
            self.stats.late += 1
            return []
        if seq in self._pending:
            self.stats.duplicates += 1
            return []
        self._pending[seq] = payload
        out = self._release()
        if len(self._pending) > self.max_delay:
            # The oldest gap has waited long enough: skip to the oldest packet we do have.
            oldest = min(self._pending)
            self.stats.lost += oldest - self._next
            self._next = oldest
            out.extend(self._release())
        return out

    def _release(self) -> list[bytes]:
        out: list[bytes] = []
        assert self._next is not None
        while self._next in self._pending:
            out.append(self._pending.pop(self._next))
            self._next += 1
        return out

    def flush(self) -> list[bytes]:
        """Release everything still held (end of stream), skipping gaps."""
        out: list[bytes] = []
        for seq in sorted(self._pending):
            if self._next is not None and seq > self._next:
                self.stats.lost += seq - self._next
            out.append(self._pending[seq])
            self._next = seq + 1
        self._pending.clear()
        return out

    @property
    def waiting(self) -> int:
        return len(self._pending)
