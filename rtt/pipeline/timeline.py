"""Maps stream sample positions to the session-clock time their audio arrived.

Latency is measured from capture: "speech ended at sample N" becomes "the client sent the end
of speech at T ms".  Keeps a bounded history; positions older than it map to its oldest entry.
"""

from __future__ import annotations

import bisect
from collections import deque


class CaptureTimeline:
    def __init__(self, max_entries: int = 4096) -> None:
        self._ends: deque[int] = deque(maxlen=max_entries)
        self._times: deque[float] = deque(maxlen=max_entries)
        self.total = 0

    def add(self, n_samples: int, at_ms: float) -> None:
        if n_samples <= 0:
            return
        self.total += n_samples
        self._ends.append(self.total)
        self._times.append(at_ms)

    def arrival_ms(self, sample: int) -> float | None:
        """When the chunk holding ``sample`` (exclusive end position) arrived."""
        if not self._ends:
            return None
        i = bisect.bisect_left(list(self._ends), max(1, sample))
        return self._times[min(i, len(self._times) - 1)]
