"""Regression gate on synthetic results documents, and the ``rtt gate`` exit code."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from rtt.eval.gate import gate
from rtt.eval.suite import parse_suite

RUN = {
    "suite": "general", "pair": "es-en", "policy": "wait-3", "modality": "text",
    "chrf": 55.0, "bleu": 25.0, "comet": None, "al": 3.0, "laal": 3.2, "normalized_erasure": 0.1,
    "final_latency_ms_p95": 800.0, "first_latency_ms_p95": 300.0, "check_pass_rate": None, "n_errors": 0,
}
BASE = {"schema": "rtt.eval.results", "runs": [RUN, {**RUN, "pair": "en-es", "chrf": 50.0}]}
SUITE = parse_suite({
    "name": "general", "domain": "general", "source": {"kind": "flores"}, "pairs": ["es-en", "en-es"],
    "tolerances": {"chrf_drop": 1.0, "bleu_drop": 1.5, "al_rise": 0.5, "final_latency_ms_p95_rise_pct": 20},
    "thresholds": {"min_chrf": 40},
})


def cand(**changes: float) -> dict:
    doc = copy.deepcopy(BASE)
    doc["runs"][0].update(changes)
    return doc


def test_identical_results_pass() -> None:
    report = gate(BASE, BASE, [SUITE])
    assert report.passed and report.rows
    assert "PASS" in report.render()


@pytest.mark.parametrize(
    "changes, metric",
    [
        ({"chrf": 53.9}, "chrf"),
        ({"bleu": 23.0}, "bleu"),
        ({"al": 3.6}, "al"),
        ({"final_latency_ms_p95": 1000.0}, "final_latency_ms_p95"),
        ({"n_errors": 2}, "n_errors"),
        ({"chrf": 39.0}, "chrf"),
    ],
)
def test_regressions_beyond_tolerance_fail_with_a_readable_row(changes: dict, metric: str) -> None:
    report = gate(BASE, cand(**changes), [SUITE])
    assert not report.passed
    assert metric in {r.metric for r in report.failures}
    text = report.render()
    assert "FAIL" in text and metric in text and "general es-en wait-3" in text


def test_changes_within_tolerance_or_improvements_pass() -> None:
    assert gate(BASE, cand(chrf=54.2, al=3.4, final_latency_ms_p95=950.0), [SUITE]).passed
    assert gate(BASE, cand(chrf=70.0, al=1.0, final_latency_ms_p95=100.0), [SUITE]).passed


def test_ungated_metrics_and_nulls_are_skipped() -> None:
    # laal has no tolerance in SUITE? It has the default (0.5); comet is null on both sides
    report = gate(BASE, cand(comet=0.1), [SUITE])
    assert "comet" not in {r.metric for r in report.rows}


def test_a_run_missing_from_the_candidate_fails() -> None:
    doc = copy.deepcopy(BASE)
    doc["runs"] = doc["runs"][:1]
    report = gate(BASE, doc, [SUITE])
    assert not report.passed and "missing in candidate" in report.render()


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from rtt.cli.main import main

    base, good, bad = tmp_path / "b.json", tmp_path / "g.json", tmp_path / "c.json"
    base.write_text(json.dumps(BASE))
    good.write_text(json.dumps(cand(chrf=55.5)))
    bad.write_text(json.dumps(cand(chrf=50.0)))
    suite = tmp_path / "general.yaml"
    suite.write_text(json.dumps(SUITE.model_dump(mode="json")))
    assert main(["gate", "--baseline", str(base), "--candidate", str(good), "--suite", str(suite)]) == 0
    assert main(["gate", "--baseline", str(base), "--candidate", str(bad), "--suite", str(suite)]) == 1
    out = capsys.readouterr().out
    assert "chrf" in out and "55.000" in out and "50.000" in out and "-5.000" in out
    assert main(["gate", "--baseline", str(tmp_path / "none.json"), "--candidate", str(bad)]) == 2
