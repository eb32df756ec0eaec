"""Percentiles, erasure and revision rate against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from rtt.errors import InvalidInput
from rtt.metrics.timeliness import (
    ErasureStats,
    SegmentTiming,
    corpus_erasure,
    erasure,
    percentiles,
    segment_erasure,
    timing_summary,
)


def test_percentiles_linear_interpolation() -> None:
    # positions (n-1) * q: p50 -> 1.5 -> 25; p95 -> 2.85 -> 30 + 0.85 * 10; p99 -> 2.97
    p = percentiles([40, 10, 30, 20])
    assert p == pytest.approx({50: 25.0, 95: 38.5, 99: 39.7})
    assert percentiles([7.0]) == {50: 7.0, 95: 7.0, 99: 7.0}
    assert percentiles([]) is None
    data = list(np.random.default_rng(0).exponential(300, 101))
    assert percentiles(data, (50,))[50] == pytest.approx(sorted(data)[50])  # type: ignore[index]


def test_erasure_counts_words_past_the_common_prefix() -> None:
    assert erasure("a b c", "a b d e") == 1
    assert erasure("a b", "a b c") == 0
    assert erasure("a b c", "x") == 3
    assert erasure("", "a") == 0
    assert erasure("a  b", "a b") == 0  # whitespace tokens, not characters


def test_segment_normalized_erasure_and_revision_rate() -> None:
    partials = ["I", "I am", "I was going", "I was going home"]
    s = segment_erasure(partials)
    # updates: I -> I am (0), I am -> I was going (1: "am"), -> I was going home (0)
    assert s == ErasureStats(erased_words=1, final_words=4, updates=3, revisions=1)
    assert s.normalized_erasure == pytest.approx(1 / 4)
    assert s.revision_rate == pytest.approx(1 / 3)


def test_final_is_appended_unless_already_last() -> None:
    s = segment_erasure(["the dog", "the dog runs"], final="the dogs run fast")
    # the dog runs -> the dogs run fast erases "dog runs": 2 of 4 final words
    assert (s.erased_words, s.updates, s.final_words) == (2, 2, 4)
    assert segment_erasure(["a b"], final="a b") == ErasureStats(0, 2, 0, 0)
    assert segment_erasure([], final="a b").revision_rate == 0.0
    with pytest.raises(InvalidInput):
        segment_erasure([])


def test_corpus_erasure_is_a_ratio_of_totals() -> None:
    a = ErasureStats(erased_words=1, final_words=4, updates=3, revisions=1)
    b = ErasureStats(erased_words=3, final_words=2, updates=1, revisions=1)
    c = corpus_erasure([a, b])
    assert c.normalized_erasure == pytest.approx(4 / 6)
    assert c.revision_rate == pytest.approx(2 / 4)
    assert ErasureStats(2, 0, 1, 1).normalized_erasure == 2.0  # empty final: per one word


def test_timing_summary_keys_and_missing_events() -> None:
    timings = [SegmentTiming(100.0, 900.0), SegmentTiming(200.0, None), SegmentTiming(None, 1100.0)]
    s = timing_summary(timings, qs=(50, 95))
    assert s == pytest.approx(
        {
            "first_latency_ms_p50": 150.0,
            "first_latency_ms_p95": 195.0,
            "final_latency_ms_p50": 1000.0,
            "final_latency_ms_p95": 1090.0,
        }
    )
    assert timing_summary([], qs=(50,)) == {"first_latency_ms_p50": None, "final_latency_ms_p50": None}
