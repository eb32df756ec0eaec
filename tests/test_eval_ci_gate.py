"""CI regression gate: the served config on the 3-sentence smoke suite, gated against the
committed baseline ``reports/ci/smoke-baseline.json`` with the smoke suite's tolerances.

Refresh the baseline on purpose (a model or policy change that is meant to change output) with
``rtt experiment run experiments/ci-smoke.yaml --out reports/ci/smoke`` and copying its
results.json to reports/ci/smoke-baseline.json.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rtt.eval.experiment import load_experiment, run_experiment
from rtt.eval.gate import gate
from rtt.eval.suite import load_suite

REPO = Path(__file__).resolve().parents[1]
BASELINE = REPO / "reports" / "ci" / "smoke-baseline.json"


@pytest.mark.models
def test_smoke_experiment_passes_the_gate(translator, shared_data: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                         capsys: pytest.CaptureFixture[str]) -> None:
    spec = load_experiment(REPO / "experiments" / "ci-smoke.yaml")
    doc = run_experiment(spec, translator, quiet=True)
    run = doc["runs"][0]
    assert run["n_segments"] == 3 and run["n_errors"] == 0
    assert run["chrf"] is not None and run["al"] is not None
    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))
    report = gate(baseline, doc, [load_suite(REPO / "golden_sets" / "smoke.yaml")])
    assert report.passed, report.render(verbose=True)
    # the gate is not vacuous: the same candidate with quality 10 chrF lower fails it
    worse = json.loads(json.dumps(doc))
    worse["runs"][0]["chrf"] = baseline["runs"][0]["chrf"] - 10
    assert not gate(baseline, worse, [load_suite(REPO / "golden_sets" / "smoke.yaml")]).passed
    # and the same two verdicts through the command CI and users run
    from rtt.cli.main import main

    for name, candidate, expected in (("same", doc, 0), ("worse", worse, 1)):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(candidate), encoding="utf-8")
        rc = main(["gate", "--baseline", str(BASELINE), "--candidate", str(path),
                   "--suite", str(REPO / "golden_sets" / "smoke.yaml")])
        assert rc == expected, name
    assert "chrf" in capsys.readouterr().out.lower()
