"""Traces → the stable metric keys of a run (documented in ``docs/evaluation.md``).

Every key is always present; a metric that does not apply or cannot be computed is ``None``
(JSON ``null``), never a stand-in number: ``comet`` without a configured checkpoint, ``wer``
for text input, latency for a run where nothing was emitted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rtt.eval.traces import SegmentTrace
from rtt.metrics.comet import comet_or_none
from rtt.metrics.latency import LatencyInstance, corpus_latency
from rtt.metrics.quality import corpus_bleu, corpus_chrf
from rtt.metrics.timeliness import SegmentTiming, corpus_erasure, percentiles, segment_erasure, timing_summary
from rtt.metrics.wer import word_error_rate

METRIC_KEYS: tuple[str, ...] = (
    "chrf",
    "bleu",
    "comet",
    "chrf_first_final",
    "wer",
    "al",
    "laal",
    "dal",
    "ap",
    "start_offset",
    "end_offset",
    "al_ca",
    "laal_ca",
    "dal_ca",
    "ap_ca",
    "start_offset_ca",
    "end_offset_ca",
    "first_latency_ms_p50",
    "first_latency_ms_p95",
    "first_latency_ms_p99",
    "final_latency_ms_p50",
    "final_latency_ms_p95",
    "final_latency_ms_p99",
    "revision_latency_ms_p50",
    "revision_latency_ms_p95",
    "normalized_erasure",
    "revision_rate",
    "check_pass_rate",
    "n_segments",
    "n_errors",
)

# Direction of "better" for each gated metric: +1 higher is better, -1 lower is better.
BETTER: dict[str, int] = {
    "chrf": 1,
    "bleu": 1,
    "comet": 1,
    "chrf_first_final": 1,
    "check_pass_rate": 1,
    "wer": -1,
    "al": -1,
    "laal": -1,
    "dal": -1,
    "ap": -1,
    "start_offset": -1,
    "end_offset": -1,
    "al_ca": -1,
    "laal_ca": -1,
    "dal_ca": -1,
    "ap_ca": -1,
    "start_offset_ca": -1,
    "end_offset_ca": -1,
    "first_latency_ms_p50": -1,
    "first_latency_ms_p95": -1,
    "first_latency_ms_p99": -1,
    "final_latency_ms_p50": -1,
    "final_latency_ms_p95": -1,
    "final_latency_ms_p99": -1,
    "revision_latency_ms_p50": -1,
    "revision_latency_ms_p95": -1,
    "normalized_erasure": -1,
    "revision_rate": -1,
}


def _r(x: float | None, nd: int = 3) -> float | None:
    return None if x is None else round(float(x), nd)


def summarize(
    traces: Sequence[SegmentTrace],
    target_lang: str | None = None,
    *,
    speech: bool = False,
    with_comet: bool = True,
) -> dict[str, Any]:
    ok = [t for t in traces if t.error is None]
    out: dict[str, Any] = dict.fromkeys(METRIC_KEYS)
    out["n_segments"] = len(traces)
    out["n_errors"] = len(traces) - len(ok)
    scored = [t for t in ok if t.reference is not None]
    if scored:
        hyps = [t.hypothesis for t in scored]
        refs = [t.reference or "" for t in scored]
        chrf = corpus_chrf(hyps, refs)
        bleu = corpus_bleu(hyps, refs, target_lang=target_lang)
        out["chrf"], out["bleu"] = _r(chrf.score, 2), _r(bleu.score, 2)
        out["chrf_signature"], out["bleu_signature"] = chrf.signature, bleu.signature
        if with_comet:
            out["comet"] = _r(comet_or_none([t.source for t in scored], hyps, refs), 4)
        if any(t.first_final is not None for t in scored):
            firsts = [t.first_final if t.first_final is not None else t.hypothesis for t in scored]
            out["chrf_first_final"] = _r(corpus_chrf(firsts, refs).score, 2)
    if speech:
        pairs = [(t.transcript_ref, t.transcript_hyp or "") for t in ok if t.transcript_ref is not None]
        if pairs:
            out["wer"] = _r(word_error_rate([r for r, _ in pairs], [h for _, h in pairs]), 4)
    instances = [
        LatencyInstance(
            t.delays,
            t.source_length,
            len(t.reference.split()) if t.reference else None,
            t.elapsed if t.elapsed and len(t.elapsed) == len(t.delays) else None,
        )
        for t in ok
        if t.delays and t.source_length > 0
    ]
    lat = corpus_latency(instances)
    if lat is not None:
        for key in ("al", "laal", "dal", "ap", "start_offset", "end_offset"):
            out[key] = _r(getattr(lat, key))
            out[f"{key}_ca"] = _r(getattr(lat, f"{key}_ca"))
    timing = timing_summary([SegmentTiming(t.first_latency_ms, t.final_latency_ms) for t in ok], (50, 95, 99))
    for key, value in timing.items():
        out[key] = _r(value, 1)
    revisions = [t.revision_latency_ms for t in ok if t.revision_latency_ms is not None]
    pct = percentiles(revisions, (50, 95))
    if pct is not None:
        out["revision_latency_ms_p50"], out["revision_latency_ms_p95"] = _r(pct[50], 1), _r(pct[95], 1)
    erasures = [segment_erasure(t.outputs) for t in ok if t.outputs]
    if erasures:
        total = corpus_erasure(erasures)
        out["normalized_erasure"] = _r(total.normalized_erasure, 4)
        out["revision_rate"] = _r(total.revision_rate, 4)
    checked = [t for t in ok if t.checks]
    if checked:
        out["check_pass_rate"] = _r(sum(all(c.passed for c in t.checks) for t in checked) / len(checked), 4)
    return out
