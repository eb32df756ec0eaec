"""Canary replay: route a share of a golden suite's segments to a candidate config, the way a
rollout routes live sessions, and compare what each arm served.

Routing hashes the segment id (sha256 with a salt), so a segment always goes to the same arm and
raising the share only moves segments from the baseline to the candidate, as a sticky rollout
does.  The go/no-go looks at *online* metrics, the ones a production canary can see without
references: errors, latency percentiles, flicker (normalized erasure) and, when the encoder is
installed, QE similarity.  chrF per arm is reported too, with a loose tolerance: the two arms
see different segments, so a small difference in it says little.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rtt.eval.segments import EvalSegment
from rtt.eval.significance import PairedResult, paired_bootstrap, paired_bootstrap_stat, percentile_of
from rtt.eval.summary import summarize
from rtt.eval.text_runner import StreamingTranslator, TextRunSettings, run_text
from rtt.eval.traces import SegmentTrace

DEFAULT_SALT = "rtt-canary-v1"
ONLINE_KEYS = (
    "first_latency_ms_p50", "first_latency_ms_p95", "final_latency_ms_p50", "final_latency_ms_p95",
    "normalized_erasure", "revision_rate", "qe_similarity", "error_rate",
)
OFFLINE_KEYS = ("chrf", "bleu", "al", "check_pass_rate")


def routes_to_candidate(segment_id: str, share: float, salt: str = DEFAULT_SALT) -> bool:
    digest = hashlib.sha256(f"{salt}:{segment_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


@dataclass(frozen=True)
class CanaryCriteria:
    max_latency_p95_rise_pct: float = 25.0
    # A relative rise on a sub-millisecond system is timer noise, not a regression: the
    # candidate must also be this many ms slower before latency alone blocks it.
    min_latency_p95_rise_ms: float = 50.0
    max_erasure_rise: float = 0.05
    max_qe_drop: float = 0.03
    max_chrf_drop: float = 5.0
    min_candidate_segments: int = 3
    # Shadow mode (both arms on the same segments): a chrF or latency difference blocks only when
    # the paired bootstrap says it is real (p < alpha), and a chrF drop of this much is enough.
    shadow_min_chrf_drop: float = 0.5
    alpha: float = 0.05


@dataclass
class CanaryResult:
    baseline: dict[str, Any]
    candidate: dict[str, Any]
    reasons: list[str] = field(default_factory=list)  # why no-go (empty: go)
    traces: list[SegmentTrace] = field(default_factory=list)
    # Shadow mode: paired bootstrap of candidate vs baseline on the segments both served.
    significance: dict[str, PairedResult] = field(default_factory=dict)

    @property
    def go(self) -> bool:
        return not self.reasons


def _qe(traces: Sequence[SegmentTrace]) -> float | None:
    from rtt.metrics.qe import qe_similarity_or_none

    ok = [t for t in traces if t.error is None and t.hypothesis]
    if not ok:
        return None
    value = qe_similarity_or_none([t.source for t in ok], [t.hypothesis for t in ok])
    return None if value is None else round(value, 4)


def arm_metrics(traces: Sequence[SegmentTrace], target_lang: str | None, with_qe: bool = True) -> dict[str, Any]:
    m = summarize(traces, target_lang, with_comet=False)
    out = {k: m.get(k) for k in OFFLINE_KEYS}
    out.update({k: m.get(k) for k in ONLINE_KEYS if k in m})
    out["n_segments"] = m["n_segments"]
    out["error_rate"] = round(m["n_errors"] / m["n_segments"], 4) if m["n_segments"] else None
    out["qe_similarity"] = _qe(traces) if with_qe else None
    return out


def paired_significance(traces: Sequence[SegmentTrace]) -> dict[str, PairedResult]:
    """chrF and final latency p95 of the candidate against the baseline on the segments both arms
    served without error (shadow mode), by paired bootstrap resampling."""
    base = {t.segment_id: t for t in traces if t.arm == "baseline" and t.error is None}
    cand = {t.segment_id: t for t in traces if t.arm == "candidate" and t.error is None}
    shared = [i for i in base if i in cand]
    out: dict[str, PairedResult] = {}
    with_refs = [i for i in shared if base[i].reference]
    if len(with_refs) >= 5:
        targets = {base[i].target_lang for i in with_refs}
        out["chrf"] = paired_bootstrap([base[i].hypothesis for i in with_refs], [cand[i].hypothesis for i in with_refs],
                                       [base[i].reference or "" for i in with_refs],
                                       tgt_lang=next(iter(targets)) if len(targets) == 1 else None)
    timed = [i for i in shared if base[i].final_latency_ms is not None and cand[i].final_latency_ms is not None]
    if len(timed) >= 5:
        out["final_latency_ms_p95"] = paired_bootstrap_stat(
            [base[i].final_latency_ms or 0.0 for i in timed], [cand[i].final_latency_ms or 0.0 for i in timed],
            statistic=percentile_of(95), name="final_latency_ms_p95")
    return out


def decide(base: dict[str, Any], cand: dict[str, Any], crit: CanaryCriteria,
           significance: dict[str, PairedResult] | None = None) -> list[str]:
    """Why the candidate is a no-go (empty: go).  With ``significance`` (shadow mode) a latency
    or chrF difference must also be significant, and a smaller chrF drop is enough."""
    sig = significance or {}
    reasons = []
    if (cand.get("n_segments") or 0) < crit.min_candidate_segments:
        reasons.append(
            f"only {cand.get('n_segments') or 0} segment(s) reached the candidate "
            f"(need {crit.min_candidate_segments}); raise --share or --limit"
        )
    if (cand.get("error_rate") or 0) > (base.get("error_rate") or 0):
        reasons.append(f"error rate {cand['error_rate']:.2%} > baseline {base.get('error_rate') or 0:.2%}")
    b, c = base.get("final_latency_ms_p95"), cand.get("final_latency_ms_p95")
    lat = sig.get("final_latency_ms_p95")
    if (b is not None and c is not None and c > b * (1 + crit.max_latency_p95_rise_pct / 100)
            and c - b > crit.min_latency_p95_rise_ms and (lat is None or lat.p_value < crit.alpha)):
        reasons.append(
            f"final latency p95 {c:.0f} ms > baseline {b:.0f} ms + {crit.max_latency_p95_rise_pct:g}% "
            f"(and + {crit.min_latency_p95_rise_ms:g} ms)" + (f", p = {lat.p_value:.3f}" if lat else "")
        )
    b, c = base.get("normalized_erasure"), cand.get("normalized_erasure")
    if b is not None and c is not None and c > b + crit.max_erasure_rise:
        reasons.append(f"normalized erasure {c:.3f} > baseline {b:.3f} + {crit.max_erasure_rise:g}")
    b, c = base.get("qe_similarity"), cand.get("qe_similarity")
    if b is not None and c is not None and c < b - crit.max_qe_drop:
        reasons.append(f"QE similarity {c:.3f} < baseline {b:.3f} - {crit.max_qe_drop:g}")
    b, c = base.get("chrf"), cand.get("chrf")
    paired = sig.get("chrf")
    if paired is not None:
        if paired.delta < -crit.shadow_min_chrf_drop and paired.p_value < crit.alpha:
            reasons.append(f"chrF {paired.candidate:.1f} < baseline {paired.baseline:.1f} on the same "
                           f"{paired.n_segments} segments (paired bootstrap p = {paired.p_value:.3f})")
    elif b is not None and c is not None and c < b - crit.max_chrf_drop:
        reasons.append(f"chrF {c:.1f} < baseline {b:.1f} - {crit.max_chrf_drop:g}")
    return reasons


def run_canary(
    baseline: StreamingTranslator,
    candidate: StreamingTranslator,
    segments: Sequence[EvalSegment],
    share: float,
    baseline_settings: TextRunSettings,
    candidate_settings: TextRunSettings,
    *,
    criteria: CanaryCriteria | None = None,
    salt: str = DEFAULT_SALT,
    with_qe: bool = True,
    shadow: bool = False,
) -> CanaryResult:
    """``shadow=True`` replays every segment through both arms (a shadow deployment): twice the
    compute, but the arms' metrics are then paired, so small quality differences mean something."""
    if shadow:
        to_cand = to_base = list(segments)
    else:
        to_cand = [s for s in segments if routes_to_candidate(s.id, share, salt)]
        to_base = [s for s in segments if not routes_to_candidate(s.id, share, salt)]
    base_traces = run_text(baseline, to_base, baseline_settings)
    cand_traces = run_text(candidate, to_cand, candidate_settings)
    for t in base_traces:
        t.arm = "baseline"
    for t in cand_traces:
        t.arm = "candidate"
    targets = {s.target_lang for s in segments}
    target = next(iter(targets)) if len(targets) == 1 else None
    b = arm_metrics(base_traces, target, with_qe)
    c = arm_metrics(cand_traces, target, with_qe)
    crit = criteria or CanaryCriteria()
    traces = base_traces + cand_traces
    # Same segments on both arms: differences are tested pair by pair, not guessed at.
    significance = paired_significance(traces) if shadow else {}
    reasons = decide(b, c, crit, significance)
    return CanaryResult(b, c, reasons, traces, significance)


def render(result: CanaryResult, share: float) -> str:
    from rtt.metrics.comet import NOT_CONFIGURED, configured_checkpoint
    from rtt.metrics.qe import QE_LABEL

    keys = ["n_segments", *ONLINE_KEYS, *OFFLINE_KEYS]
    lines = [f"{'metric':24} {'baseline':>12} {'candidate':>12}", "-" * 50]
    for k in keys:
        b, c = result.baseline.get(k), result.candidate.get(k)
        # The QE row is marked so nobody reads a cosine similarity as a translation score.
        label = f"{k} (*)" if k == "qe_similarity" else k
        lines.append(f"{label:24} {_f(b):>12} {_f(c):>12}")
    lines.append(f"(*) {QE_LABEL}" + ("" if result.baseline.get("qe_similarity") is not None
                                      else "; not computed (encoder not installed or --no-qe)"))
    # A canary never scores COMET (it compares online metrics); say "not configured" only when
    # that is also true, so the line cannot contradict a configured checkpoint.
    lines.append(NOT_CONFIGURED if configured_checkpoint() is None else "COMET: not scored by a canary")
    for name, res in result.significance.items():
        lines.append(f"paired bootstrap {name}: {res.delta:+.2f} (95% CI {res.ci[0]:+.2f} .. {res.ci[1]:+.2f}), "
                     f"p = {res.p_value:.3f}{' significant' if res.significant else ''} [{res.signature}]")
    verdict = "GO" if result.go else "NO-GO"
    lines.append(f"canary (share {share:g}): {verdict}")
    lines += [f"  - {r}" for r in result.reasons]
    return "\n".join(lines)


def _f(x: Any) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.3f}" if abs(x) < 10 else f"{x:.1f}"
    return str(x)
