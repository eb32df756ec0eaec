"""The alert rules and the dashboard (deploy/): promtool checks the rules and runs their unit
tests on synthetic series; every series they name is one the service or the gate exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from rtt.eval.gate import GateReport, GateRow
from serve.metrics import Metrics

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
SERIES = re.compile(r"\b(rtt_[a-z0-9_]+)")


def promtool() -> str:
    binary = shutil.which("promtool")
    if binary is None:
        pytest.skip("promtool is not installed (Debian package prometheus; make system-deps)")
    return binary


def test_promtool_checks_the_rules() -> None:
    out = subprocess.run([promtool(), "check", "rules", str(DEPLOY / "alerts.yml")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout


def test_each_alert_fires_on_its_synthetic_series() -> None:
    out = subprocess.run([promtool(), "test", "rules", "alerts_test.yml"], cwd=DEPLOY, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout
    # every alert has a test that expects it to fire
    rules = [r["alert"] for g in yaml.safe_load((DEPLOY / "alerts.yml").read_text())["groups"] for r in g["rules"]]
    tests = yaml.safe_load((DEPLOY / "alerts_test.yml").read_text())["tests"]
    fired = {t["alertname"] for case in tests for t in case["alert_rule_test"] if t["exp_alerts"]}
    assert set(rules) - {"RttGateStale"} <= fired


def exported_names() -> set[str]:
    """Series names the service's registry and the gate's textfile expose."""
    from prometheus_client.parser import text_string_to_metric_families

    metrics = Metrics()
    names: set[str] = set()
    for family in metrics.registry.collect():
        names.add(family.name)
        names |= {f"{family.name}{suffix}" for suffix in ("_total", "_bucket", "_count", "_sum", "_created")}
    gate = GateReport([GateRow("suite es-en", "wer", 0.2, 0.3, "+0.02", False)]).to_prometheus(now=0)
    names |= {f.name for f in text_string_to_metric_families(gate)}
    return names


def test_rules_and_dashboard_name_only_exported_series() -> None:
    known = exported_names()
    rules = (DEPLOY / "alerts.yml").read_text()
    dashboard = json.loads((DEPLOY / "grafana" / "rtt.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert exprs and all(p["datasource"]["type"] == "prometheus" for p in dashboard["panels"])
    used = set(SERIES.findall(rules)) | {n for e in exprs for n in SERIES.findall(e)}
    assert used and used <= known, used - known


def test_the_gate_writes_what_the_drift_alert_reads() -> None:
    from prometheus_client.parser import text_string_to_metric_families

    report = GateReport([GateRow("general de-en wait-3", "wer", 0.20, 0.25, "+0.02", False),
                         GateRow("general de-en wait-3", "chrf", 50.0, 50.5, "-1.0", True)])
    families = {f.name: f for f in text_string_to_metric_families(report.to_prometheus(now=1.0))}
    passed = {s.labels["metric"]: s.value for s in families["rtt_gate_passed"].samples}
    assert passed == {"wer": 0.0, "chrf": 1.0}
    values = {(s.labels["metric"], s.labels["arm"]): s.value for s in families["rtt_gate_value"].samples}
    assert values[("wer", "candidate")] == 0.25 and values[("wer", "baseline")] == 0.20
    assert families["rtt_gate_last_run_timestamp_seconds"].samples[0].value == 1.0
