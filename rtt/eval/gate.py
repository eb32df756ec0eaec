"""Regression gate: compare a candidate's results with a baseline's under suite tolerances.

Runs are matched by (suite, pair, policy).  A quality metric fails when it drops by more than
the suite allows, a latency metric when it rises by more than allowed, an absolute threshold
when the candidate misses it, and a run the baseline has but the candidate lacks fails too (a
regression must not pass by not being measured).  Metrics null on either side are skipped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rtt.datasets import REPO_ROOT
from rtt.errors import ConfigError
from rtt.eval.suite import SuiteSpec, Thresholds, Tolerances, load_suite

# metric -> (tolerance field, kind): "drop" = absolute drop allowed, "rise" = absolute rise
# allowed, "rise_pct" = relative rise allowed in percent.
GATED: dict[str, tuple[str, str]] = {
    "chrf": ("chrf_drop", "drop"),
    "bleu": ("bleu_drop", "drop"),
    "comet": ("comet_drop", "drop"),
    "check_pass_rate": ("check_pass_rate_drop", "drop"),
    "wer": ("wer_rise", "rise"),
    "al": ("al_rise", "rise"),
    "laal": ("laal_rise", "rise"),
    "normalized_erasure": ("normalized_erasure_rise", "rise"),
    "first_latency_ms_p95": ("first_latency_ms_p95_rise_pct", "rise_pct"),
    "final_latency_ms_p95": ("final_latency_ms_p95_rise_pct", "rise_pct"),
}
THRESHOLDS: dict[str, tuple[str, str]] = {
    "min_chrf": ("chrf", "min"),
    "min_bleu": ("bleu", "min"),
    "max_wer": ("wer", "max"),
    "max_al": ("al", "max"),
    "min_check_pass_rate": ("check_pass_rate", "min"),
}


@dataclass
class GateRow:
    key: str  # "suite pair policy"
    metric: str
    baseline: float | None
    candidate: float | None
    allowed: str
    passed: bool
    note: str = ""


@dataclass
class GateReport:
    rows: list[GateRow] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.rows)

    @property
    def failures(self) -> list[GateRow]:
        return [r for r in self.rows if not r.passed]

    def to_prometheus(self, now: float | None = None) -> str:
        """The result in Prometheus' text format (for node_exporter's textfile collector or a
        Pushgateway): what ``deploy/alerts.yml`` alerts on (ASR WER drift, MT quality drop)."""
        import time

        def esc(v: str) -> str:
            return v.replace("\\", "\\\\").replace('"', '\\"')

        lines = ["# HELP rtt_gate_passed 1 when the candidate is within the allowed change of the baseline",
                 "# TYPE rtt_gate_passed gauge"]
        lines += [f'rtt_gate_passed{{run="{esc(r.key)}",metric="{esc(r.metric)}"}} {int(r.passed)}' for r in self.rows]
        lines += ["# HELP rtt_gate_value a gated metric of the baseline and of the candidate",
                  "# TYPE rtt_gate_value gauge"]
        for r in self.rows:
            for arm, value in (("baseline", r.baseline), ("candidate", r.candidate)):
                if value is not None:
                    lines.append(f'rtt_gate_value{{run="{esc(r.key)}",metric="{esc(r.metric)}",arm="{arm}"}} {value}')
        lines += ["# HELP rtt_gate_last_run_timestamp_seconds when the gate last ran",
                  "# TYPE rtt_gate_last_run_timestamp_seconds gauge",
                  f"rtt_gate_last_run_timestamp_seconds {time.time() if now is None else now}"]
        return "\n".join(lines) + "\n"

    def render(self, verbose: bool = False) -> str:
        shown = self.rows if verbose else self.failures
        lines = []
        if shown:
            width = max(len(r.key) for r in shown)
            lines.append(f"{'run'.ljust(width)}  {'metric':22} {'baseline':>10} {'candidate':>10} {'delta':>9}  allowed")
            for r in shown:
                delta = "" if r.baseline is None or r.candidate is None else f"{r.candidate - r.baseline:+.3f}"
                mark = "ok  " if r.passed else "FAIL"
                lines.append(
                    f"{r.key.ljust(width)}  {r.metric:22} {_f(r.baseline):>10} {_f(r.candidate):>10} {delta:>9}  "
                    f"{r.allowed}  {mark} {r.note}".rstrip()
                )
        checked = len({r.key for r in self.rows})
        verdict = "PASS" if self.passed else f"FAIL: {len(self.failures)} regression(s)"
        lines.append(f"gate: {verdict} ({len(self.rows)} checks over {checked} runs)")
        return "\n".join(lines)


def _f(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def _key(run: Mapping[str, Any]) -> str:
    return f"{run['suite']} {run['pair']} {run['policy']}"


def _suite_for(run: Mapping[str, Any], overrides: Mapping[str, SuiteSpec], cache: dict[str, SuiteSpec | None]) -> SuiteSpec | None:
    name = run["suite"]
    if name in overrides:
        return overrides[name]
    if name not in cache:
        cache[name] = None
        for candidate in (run.get("suite_path"), f"golden_sets/{name}.yaml"):
            if not candidate:
                continue
            path = Path(candidate) if Path(candidate).is_absolute() else REPO_ROOT / candidate
            if path.is_file():
                try:
                    cache[name] = load_suite(path)
                except ConfigError:
                    continue
                break
    return cache[name]


def check_metric(metric: str, base: float, cand: float, tol: float, kind: str) -> tuple[bool, str]:
    if kind == "drop":
        return cand >= base - tol, f"drop <= {tol:g}"
    if kind == "rise":
        return cand <= base + tol, f"rise <= {tol:g}"
    limit = abs(base) * (1 + tol / 100)
    return cand <= limit, f"rise <= {tol:g}%"


def gate(
    baseline: Mapping[str, Any],
    candidate: Mapping[str, Any],
    suites: Sequence[SuiteSpec] = (),
    default_tolerances: Tolerances | None = None,
) -> GateReport:
    overrides = {s.name: s for s in suites}
    cache: dict[str, SuiteSpec | None] = {}
    cand_runs = {_key(r): r for r in candidate.get("runs", [])}
    report = GateReport()
    for base in baseline.get("runs", []):
        if overrides and base["suite"] not in overrides:
            continue
        key = _key(base)
        suite = _suite_for(base, overrides, cache)
        tol = suite.tolerances if suite else (default_tolerances or Tolerances())
        thr = suite.thresholds if suite else Thresholds()
        cand = cand_runs.get(key)
        if cand is None:
            report.rows.append(GateRow(key, "(run)", None, None, "must be evaluated", False, "missing in candidate"))
            continue
        for metric, (field_name, kind) in GATED.items():
            allowance = getattr(tol, field_name)
            b, c = base.get(metric), cand.get(metric)
            if allowance is None or b is None or c is None:
                continue
            ok, allowed = check_metric(metric, float(b), float(c), float(allowance), kind)
            report.rows.append(GateRow(key, metric, float(b), float(c), allowed, ok))
        b_err, c_err = int(base.get("n_errors") or 0), int(cand.get("n_errors") or 0)
        report.rows.append(GateRow(key, "n_errors", b_err, c_err, "no increase", c_err <= b_err))
        for field_name, (metric, kind) in THRESHOLDS.items():
            limit = getattr(thr, field_name)
            c = cand.get(metric)
            if limit is None or c is None:
                continue
            ok = c >= limit if kind == "min" else c <= limit
            report.rows.append(GateRow(key, metric, None, float(c), f"{kind} {limit:g}", ok, "threshold"))
    if overrides and not any(r["suite"] in overrides for r in baseline.get("runs", [])):
        report.rows.append(GateRow(", ".join(overrides), "(suite)", None, None, "in baseline", False,
                                   "the baseline has no run of this suite"))
    return report
