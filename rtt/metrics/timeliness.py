"""What a live listener sees: when text first appears, when it is final, and how much it flickers.

* First-partial latency of a segment: milliseconds from the segment's first source input to
  the first partial shown for it.  Final latency: milliseconds from the end of the segment's
  source to its final result.  The caller measures both (the harness owns the clocks); this
  module turns them into percentiles over segments.
* Normalized erasure (Arivazhagan et al. 2020, "Re-translation versus streaming for
  simultaneous translation"): for a segment whose successive displayed outputs are
  ``o_1 .. o_I`` (partials, then the final),
  ``NE = sum_{i=2..I} (|o_{i-1}| - |LCP(o_{i-1}, o_i)|) / |o_I|``: words erased from the end of
  one output to reach the next, per word of the final output.  Words are whitespace tokens.
  The corpus value sums erasures and final lengths over segments (a ratio of totals, so long
  segments weigh by their length, as in the paper's corpus-level numbers).
* Revision rate: the fraction of output updates (``o_{i-1} -> o_i``) that erase at least
  one word.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rtt.errors import InvalidInput

DEFAULT_PERCENTILES: tuple[int, ...] = (50, 95, 99)


def percentiles(values: Sequence[float], qs: Sequence[int] = DEFAULT_PERCENTILES) -> dict[int, float] | None:
    """Percentiles with linear interpolation between order statistics (numpy's default).

    None for an empty sample: a report prints "n/a" rather than a made-up 0.
    """
    if len(values) == 0:
        return None
    arr = np.asarray(values, dtype=float)
    return {int(q): float(np.percentile(arr, q)) for q in qs}


def _words(text: str) -> list[str]:
    return text.split()


def erasure(previous: str, current: str) -> int:
    """Words at the end of ``previous`` that ``current`` does not keep (beyond their common prefix)."""
    prev, cur = _words(previous), _words(current)
    lcp = 0
    for a, b in zip(prev, cur, strict=False):
        if a != b:
            break
        lcp += 1
    return len(prev) - lcp


@dataclass(frozen=True)
class ErasureStats:
    erased_words: int  # total over the segment's updates
    final_words: int
    updates: int  # number of transitions o_{i-1} -> o_i
    revisions: int  # transitions that erased at least one word

    @property
    def normalized_erasure(self) -> float:
        # An empty final output would divide by zero; count erasures per word, floor of one word.
        return self.erased_words / max(self.final_words, 1)

    @property
    def revision_rate(self) -> float:
        return self.revisions / self.updates if self.updates else 0.0

    def __add__(self, other: ErasureStats) -> ErasureStats:
        return ErasureStats(
            self.erased_words + other.erased_words,
            self.final_words + other.final_words,
            self.updates + other.updates,
            self.revisions + other.revisions,
        )


def segment_erasure(outputs: Sequence[str], final: str | None = None) -> ErasureStats:
    """Erasure of one segment from its successive displayed outputs.

    ``outputs`` are the partial strings in display order; ``final`` is the final result, added
    as the last output unless it equals the last partial already.  Without ``final`` the last
    element of ``outputs`` is taken as the final.
    """
    seq = list(outputs)
    if final is not None and (not seq or seq[-1] != final):
        seq.append(final)
    if not seq:
        raise InvalidInput("a segment needs at least one output to measure erasure")
    erased = 0
    revisions = 0
    for prev, cur in zip(seq, seq[1:], strict=False):
        e = erasure(prev, cur)
        erased += e
        revisions += e > 0
    return ErasureStats(erased, len(_words(seq[-1])), len(seq) - 1, revisions)


def corpus_erasure(segments: Sequence[ErasureStats]) -> ErasureStats:
    total = ErasureStats(0, 0, 0, 0)
    for s in segments:
        total = total + s
    return total


@dataclass(frozen=True)
class SegmentTiming:
    """Measured by the harness for one segment, in milliseconds; None when never emitted."""

    first_latency_ms: float | None
    final_latency_ms: float | None


def timing_summary(
    timings: Sequence[SegmentTiming], qs: Sequence[int] = DEFAULT_PERCENTILES
) -> dict[str, float | None]:
    """``first_latency_ms_p50`` ... ``final_latency_ms_p99``; None where no segment had the event."""
    out: dict[str, float | None] = {}
    for key in ("first_latency_ms", "final_latency_ms"):
        values = [v for t in timings if (v := getattr(t, key)) is not None]
        pct = percentiles(values, qs)
        for q in qs:
            out[f"{key}_p{q}"] = None if pct is None else pct[int(q)]
    return out
