"""One run's metrics as the flat JSON object written under reports/ (keys in docs/metrics.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rtt.metrics.comet import format_comet
from rtt.metrics.latency import LatencyInstance, corpus_latency
from rtt.metrics.quality import corpus_bleu, corpus_chrf
from rtt.metrics.timeliness import ErasureStats, SegmentTiming, corpus_erasure, timing_summary

JsonValue = float | int | str | None


@dataclass(frozen=True)
class MetricsSummary:
    values: dict[str, JsonValue]

    def to_dict(self) -> dict[str, JsonValue]:
        return dict(self.values)

    def lines(self) -> list[str]:
        """Human-readable report lines; COMET always appears, as "not configured" if absent."""
        out: list[str] = []
        for key, value in self.values.items():
            if key == "comet":
                out.append(format_comet(value if isinstance(value, float) else None))
            elif key.endswith("_signature"):
                continue
            elif isinstance(value, float):
                out.append(f"{key}: {value:.4f}")
            else:
                out.append(f"{key}: {'n/a' if value is None else value}")
        return out


def summarize(
    hyps: Sequence[str],
    refs: Sequence[str],
    target_lang: str | None = None,
    comet: float | None = None,
    wer: float | None = None,
    latency: Sequence[LatencyInstance] = (),
    timings: Sequence[SegmentTiming] = (),
    erasures: Sequence[ErasureStats] = (),
    qe_similarity: float | None = None,
) -> MetricsSummary:
    """Compute the corpus metrics from per-segment inputs; absent families are ``None``."""
    chrf = corpus_chrf(hyps, refs)
    bleu = corpus_bleu(hyps, refs, target_lang=target_lang)
    values: dict[str, JsonValue] = {
        "n_segments": len(hyps),
        "chrf": chrf.score,
        "bleu": bleu.score,
        "comet": comet,
        "wer": wer,
        "qe_similarity": qe_similarity,
    }
    lat = corpus_latency(latency)
    for key in ("al", "laal", "dal", "ap", "start_offset", "end_offset"):
        values[key] = None if lat is None else getattr(lat, key)
    tim = timing_summary(timings, qs=(50, 95))
    values.update(tim)
    values["normalized_erasure"] = corpus_erasure(erasures).normalized_erasure if erasures else None
    values["chrf_signature"] = chrf.signature
    values["bleu_signature"] = bleu.signature
    return MetricsSummary(values)
