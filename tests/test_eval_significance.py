"""Paired bootstrap (rtt/eval/significance.py) against sacrebleu's own paired test on a fixed
sample of real FLORES lines, and the shadow canary's use of it."""

from __future__ import annotations

import numpy as np
import pytest
from sacrebleu.metrics import BLEU, CHRF
from sacrebleu.significance import PairedTest

from rtt.errors import InvalidInput
from rtt.eval.canary import CanaryCriteria, decide, paired_significance
from rtt.eval.significance import bootstrap_ci, paired_bootstrap, paired_bootstrap_stat, percentile_of
from rtt.eval.traces import SegmentTrace


@pytest.fixture(scope="module")
def sample() -> tuple[list[str], list[str], list[str]]:
    """References: 40 English FLORES lines; the baseline drops each line's last word, the candidate
    also every third line's first half (a clearly worse system on some segments)."""
    from rtt import datasets

    refs = [datasets.flores_line("en", i).strip() for i in range(1, 41)]
    base = [" ".join(r.split()[:-1]) for r in refs]
    cand = [" ".join(b.split()[len(b.split()) // 2:]) if i % 3 == 0 else b for i, b in enumerate(base)]
    return base, cand, refs


@pytest.mark.parametrize("metric", ["chrf", "bleu"])
def test_paired_bootstrap_agrees_with_sacrebleu(sample, metric: str, monkeypatch: pytest.MonkeyPatch) -> None:
    base, cand, refs = sample
    monkeypatch.setenv("SACREBLEU_SEED", "12345")
    metrics = {"chrf": CHRF()} if metric == "chrf" else {"bleu": BLEU()}
    ps = PairedTest([("baseline", base), ("candidate", cand)], metrics, [refs], test_type="bs", n_samples=1000)
    _sigs, scores = ps()
    column = next(k for k in scores if k != "System")  # "chrF2" / "BLEU"
    theirs = scores[column][1]  # the candidate's Result (score, p_value, mean, ci)
    ours = paired_bootstrap(base, cand, refs, metric=metric, n_samples=1000, seed=12345)
    assert ours.baseline == pytest.approx(scores[column][0].score)
    assert ours.candidate == pytest.approx(theirs.score)
    assert ours.p_value == pytest.approx(theirs.p_value)
    assert ours.significant and ours.delta < 0 and ours.ci[1] < 0
    assert ours.signature.startswith(f"{metric}|paired-bs|n:1000|seed:12345")


def test_a_system_against_itself_is_not_significant(sample) -> None:
    base, _cand, refs = sample
    res = paired_bootstrap(base, base, refs)
    assert res.delta == 0 and res.p_value == 1.0 and not res.significant and res.mark() == ""


def test_latency_percentiles_are_compared_pair_by_pair() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(500, 100, 60)
    slower = base + 80 + rng.normal(0, 5, 60)  # every segment 80 ms slower
    noisy = base + rng.normal(0, 100, 60)  # as fast on the whole
    assert paired_bootstrap_stat(base, slower).significant
    assert not paired_bootstrap_stat(base, noisy, statistic=percentile_of(50)).significant
    with pytest.raises(InvalidInput):
        paired_bootstrap_stat([1.0, 2.0], [1.0])


def _traces(hyps: list[str], refs: list[str], arm: str, latency: float) -> list[SegmentTrace]:
    return [SegmentTrace(f"s{i}", "es", "en", "src", r, hypothesis=h, final_latency_ms=latency + i, arm=arm)
            for i, (h, r) in enumerate(zip(hyps, refs, strict=True))]


def test_shadow_canary_blocks_a_significant_chrf_drop_and_lets_noise_pass(sample) -> None:
    base, cand, refs = sample
    traces = _traces(base, refs, "baseline", 400) + _traces(cand, refs, "candidate", 400)
    sig = paired_significance(traces)
    metrics = {"chrf": sig["chrf"].baseline, "n_segments": 40, "error_rate": 0.0, "final_latency_ms_p95": 440.0}
    reasons = decide(metrics, dict(metrics, chrf=sig["chrf"].candidate), CanaryCriteria(), sig)
    assert any("paired bootstrap" in r for r in reasons)
    same = paired_significance(_traces(base, refs, "baseline", 400) + _traces(base, refs, "candidate", 400))
    assert decide(metrics, dict(metrics), CanaryCriteria(), same) == []


def test_one_systems_interval_is_sacrebleus_confidence(sample, monkeypatch: pytest.MonkeyPatch) -> None:
    base, _cand, refs = sample
    monkeypatch.setenv("SACREBLEU_SEED", "12345")
    theirs = CHRF().corpus_score(base, [refs], n_bootstrap=1000)
    score, half = bootstrap_ci(base, refs)
    assert score == pytest.approx(theirs.score)
    assert half == pytest.approx(theirs._ci, abs=1e-4)
