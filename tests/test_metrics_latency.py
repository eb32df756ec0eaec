"""Latency metrics: hand-computed values, then a cross-check against SimulEval 1.1.4's scorers."""

from __future__ import annotations

import json
import random

import pytest

from rtt.errors import InvalidInput
from rtt.metrics.latency import (
    LatencyInstance,
    average_lagging,
    average_proportion,
    corpus_latency,
    differentiable_average_lagging,
    end_offset,
    length_adaptive_average_lagging,
    segment_latency,
    start_offset,
)

# wait-2 on a 4-word source emitting 4 words: delays 2, 3, 4, 4


def test_al_hand_computed() -> None:
    # gamma = 4/4: (2-0) + (3-1) + (4-2), tau = 3 (first word written with the whole source read)
    assert average_lagging([2, 3, 4, 4], 4) == pytest.approx(6 / 3)
    # reference of 8 words: gamma = 2 -> (2 - 0) + (3 - 0.5) + (4 - 1) over tau = 3
    assert average_lagging([2, 3, 4, 4], 4, reference_length=8) == pytest.approx(7.5 / 3)
    # reference of 2 words: gamma = 0.5 -> (2 - 0) + (3 - 2) + (4 - 4)
    assert average_lagging([2, 3, 4, 4], 4, reference_length=2) == pytest.approx(3 / 3)
    # first word written after more than the whole source: AL is that delay
    assert average_lagging([5, 5], 4) == 5.0


def test_laal_uses_the_longer_of_hypothesis_and_reference() -> None:
    # ref longer (8 > 4): same as AL with the reference
    assert length_adaptive_average_lagging([2, 3, 4, 4], 4, 8) == pytest.approx(7.5 / 3)
    # ref shorter (2 < 4): the hypothesis length wins, so over-generation is not rewarded
    assert length_adaptive_average_lagging([2, 3, 4, 4], 4, 2) == pytest.approx(6 / 3)
    assert average_lagging([2, 3, 4, 4], 4, 2) < length_adaptive_average_lagging([2, 3, 4, 4], 4, 2)


def test_dal_hand_computed() -> None:
    # gamma = 1: g' = 2, max(2, 3) = 3, max(4, 4) = 4, max(4, 5) = 5; minus 0, 1, 2, 3 -> 2 each
    assert differentiable_average_lagging([2, 2, 4, 4], 4) == pytest.approx(8 / 4)
    # AL on the same delays stops at tau: (2 + 1 + 2) / 3
    assert average_lagging([2, 2, 4, 4], 4) == pytest.approx(5 / 3)


def test_ap_and_offsets() -> None:
    assert average_proportion([2, 3, 4, 4], 4) == pytest.approx(13 / 16)
    assert average_proportion([2, 3, 4, 4], 4, reference_length=5) == pytest.approx(13 / 20)
    assert start_offset([2, 3, 4, 4]) == 2.0
    assert end_offset([2, 3, 4, 4], 4) == 0.0
    assert end_offset([500.0, 1800.0], 2000.0) == -200.0  # speech: last word before the audio ended


def test_segment_and_corpus_scores() -> None:
    a = LatencyInstance([2, 3, 4, 4], 4)
    b = LatencyInstance([1, 2, 3, 4], 4, elapsed=[1.5, 2.5, 3.5, 4.5])
    sa, sb = segment_latency(a), segment_latency(b)
    assert sa.al == pytest.approx(2.0) and sa.al_ca is None
    assert sb.al == pytest.approx((1 + 1 + 1 + 1) / 4)
    # CA = the same formula on elapsed: 1.5 + 1.5 + 1.5 + 1.5 (tau = 4 since 4.5 >= 4 at the last word)
    assert sb.al_ca == pytest.approx(1.5)
    assert sb.end_offset_ca == pytest.approx(0.5)
    corpus = corpus_latency([a, b, LatencyInstance([], 3)])  # a segment with no output is skipped
    assert corpus is not None
    assert corpus.al == pytest.approx((2.0 + 1.0) / 2)
    assert corpus.al_ca is None  # not every segment has elapsed times
    assert corpus_latency([]) is None
    assert set(corpus.to_dict()) >= {"al", "laal", "dal", "ap", "start_offset", "end_offset"}


def test_invalid_inputs() -> None:
    with pytest.raises(InvalidInput):
        average_lagging([], 3)
    with pytest.raises(InvalidInput):
        average_lagging([1], 0)
    with pytest.raises(InvalidInput):
        segment_latency(LatencyInstance([1, 2], 2, elapsed=[1.0]))


# --- cross-check against SimulEval's own scorer classes -----------------------------------------


def _random_trace(rng: random.Random, speech: bool) -> dict[str, object]:
    n_tgt = rng.randint(1, 15)
    if speech:
        src = float(rng.randint(1000, 8000))
        delays = sorted(rng.uniform(0, src * 1.1) for _ in range(n_tgt))
        compute = 0.0
        elapsed = []
        for d in delays:
            compute += rng.uniform(0, 300)
            elapsed.append(d + compute)
    else:
        src = rng.randint(1, 20)
        delays = sorted(rng.randint(1, src) for _ in range(n_tgt))
        elapsed = [d + 0.5 * i for i, d in enumerate(delays)]
    ref_len = rng.randint(1, 20)
    return {"delays": delays, "elapsed": elapsed, "source_length": src, "ref_len": ref_len}


def test_matches_simuleval_scorers() -> None:
    scorers = pytest.importorskip("simuleval.evaluator.scorers.latency_scorer")
    from simuleval.evaluator.instance import LogInstance

    rng = random.Random(1234)
    traces = [_random_trace(rng, speech=i % 2 == 1) for i in range(200)]
    ours = {
        "AL": lambda t, ts, ref: average_lagging(ts, t["source_length"], ref),
        "LAAL": lambda t, ts, ref: length_adaptive_average_lagging(ts, t["source_length"], ref),
        "DAL": lambda t, ts, ref: differentiable_average_lagging(ts, t["source_length"]),
        "AP": lambda t, ts, ref: average_proportion(ts, t["source_length"], ref),
        "StartOffset": lambda t, ts, ref: start_offset(ts),
        "EndOffset": lambda t, ts, ref: end_offset(ts, t["source_length"]),
    }
    checked = 0
    for use_ref_len in (True, False):
        for computation_aware in (False, True):
            for i, t in enumerate(traces):
                info = {
                    "index": i,
                    "prediction": " ".join(f"w{k}" for k in range(len(t["delays"]))),  # type: ignore[arg-type]
                    "delays": t["delays"],
                    "elapsed": t["elapsed"],
                    "source_length": t["source_length"],
                    "reference": " ".join(["r"] * t["ref_len"]),  # type: ignore[operator]
                }
                ins = LogInstance(json.dumps(info))
                ts = t["elapsed"] if computation_aware else t["delays"]
                ref = t["ref_len"] if use_ref_len else None
                for name, fn in ours.items():
                    scorer = scorers.LATENCY_SCORERS_DICT[name](
                        computation_aware=computation_aware, use_ref_len=use_ref_len
                    )
                    expected = scorer.compute(ins)
                    assert fn(t, ts, ref) == pytest.approx(expected, rel=1e-9, abs=1e-9), (name, info)
                    checked += 1
    assert checked == 200 * 4 * 6

    # Corpus level: SimulEval's __call__ averages the segment scores.
    instances = {
        i: LogInstance(json.dumps({"index": i, **t, "reference": "r " * 3}))
        for i, t in enumerate(traces[:20])
    }
    ours_corpus = corpus_latency(
        [LatencyInstance(t["delays"], t["source_length"], None) for t in traces[:20]]  # type: ignore[arg-type]
    )
    assert ours_corpus is not None
    al = scorers.LATENCY_SCORERS_DICT["AL"](computation_aware=False, use_ref_len=False)
    assert ours_corpus.al == pytest.approx(al(instances), rel=1e-9)
