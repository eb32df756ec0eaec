"""One *run*: a suite direction (or a user's files) evaluated under one set of settings, turned
into a record with the stable metric keys plus what is needed to reproduce and compare it."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from rtt.eval.segments import EvalSegment, suite_segments
from rtt.eval.suite import SuiteSpec
from rtt.eval.summary import METRIC_KEYS, summarize
from rtt.eval.text_runner import StreamingTranslator, TextRunSettings, run_text
from rtt.eval.traces import SegmentTrace
from rtt.policies.factory import parse_policy_name

Progress = Callable[[int, int], None]


def policy_label(policy: str | None, stabilization: str | None, default_policy: str, default_stab: str) -> str:
    """The policy a run really used, spelled out (``wait-k`` + ``balanced`` -> ``wait-3``)."""
    spec = parse_policy_name(policy or default_policy, stabilization or default_stab)
    if spec.kind == "wait-k":
        return f"wait-{spec.param}" + (f"+{spec.tentative_words}t" if spec.tentative_words else "")
    if spec.kind == "local-agreement":
        return f"local-agreement-{spec.param}"
    return "full-sentence"


def run_record(
    traces: Sequence[SegmentTrace],
    *,
    suite: str,
    domain: str,
    pair: str,
    modality: str,
    policy: str,
    tier: str | None,
    final_tier: str | None,
    with_segments: bool = True,
    with_comet: bool = True,
    refine_tier: str | None = None,
) -> dict[str, Any]:
    target = pair.split("-", 1)[1]
    metrics = summarize(traces, target, speech=modality == "speech", with_comet=with_comet)
    record: dict[str, Any] = {
        "suite": suite,
        "domain": domain,
        "pair": pair,
        "modality": modality,
        "policy": policy,
        "tier": tier,
        "final_tier": final_tier,
        "refine_tier": refine_tier,
    }
    record.update({k: metrics.get(k) for k in METRIC_KEYS})
    record["signatures"] = {k: metrics[k] for k in ("chrf_signature", "bleu_signature") if k in metrics}
    errors = sorted({t.error for t in traces if t.error})
    if errors:
        record["errors"] = errors[:5]
    if with_segments:
        record["segments"] = [_segment_view(t) for t in traces]
    return record


def _segment_view(t: SegmentTrace) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": t.segment_id,
        "source": t.source,
        "reference": t.reference,
        "hypothesis": t.hypothesis,
        "delays": t.delays,
        "source_length": t.source_length,
        "first_latency_ms": None if t.first_latency_ms is None else round(t.first_latency_ms, 1),
        "final_latency_ms": None if t.final_latency_ms is None else round(t.final_latency_ms, 1),
        "n_outputs": len(t.outputs),
        "compute_ms": round(t.compute_ms, 1),
    }
    if t.first_final is not None:
        view["first_final"] = t.first_final
        view["revision_latency_ms"] = None if t.revision_latency_ms is None else round(t.revision_latency_ms, 1)
    if t.stage_ms:
        view["stage_ms"] = {k: round(v, 1) for k, v in t.stage_ms.items()}
    if t.elapsed is not None:
        view["elapsed"] = [round(x, 1) for x in t.elapsed]
    if t.transcript_ref is not None:
        view["transcript_ref"], view["transcript_hyp"] = t.transcript_ref, t.transcript_hyp
    if t.checks:
        view["checks"] = [{"name": c.name, "passed": c.passed, "detail": c.detail} for c in t.checks]
    if t.arm:
        view["arm"] = t.arm
    if t.error:
        view["error"] = t.error
    return view


def stderr_progress(label: str) -> Progress:
    def report(done: int, total: int) -> None:
        end = "\n" if done == total else "\r"
        print(f"  {label}: {done}/{total}", end=end, file=sys.stderr, flush=True)

    return report


def iter_text_suite(
    translator: StreamingTranslator,
    suite: SuiteSpec,
    settings: TextRunSettings,
    policy: str,
    *,
    limit: int | None = None,
    pairs: Sequence[str] | None = None,
    quiet: bool = False,
) -> Iterator[dict[str, Any]]:
    """One run record per direction, each yielded as soon as it is measured."""
    for src, tgt in suite.split_pairs():
        pair = f"{src}-{tgt}"
        if pairs and pair not in pairs:
            continue
        segments: list[EvalSegment] = suite_segments(suite, src, tgt, limit)
        if not segments:
            continue
        progress = None if quiet else stderr_progress(f"{suite.name} {pair} {policy}")
        traces = run_text(translator, segments, settings, progress)
        yield run_record(
            traces, suite=suite.name, domain=suite.domain, pair=pair, modality="text", policy=policy,
            tier=settings.tier, final_tier=settings.final_tier, refine_tier=settings.refine_tier,
        )
