"""What a runner records for one segment: everything the metrics need, nothing computed yet."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from rtt.errors import RttError
from rtt.eval.checks import CheckResult


@dataclass
class SegmentTrace:
    segment_id: str
    source_lang: str
    target_lang: str
    source: str
    reference: str | None
    hypothesis: str = ""
    # Latency trace of the committed (never revised) target words.  Text: source words read;
    # speech: milliseconds of source audio read.
    delays: list[float] = field(default_factory=list)
    source_length: float = 0.0
    # Computation-aware times of the same words (speech only: same unit as delays).
    elapsed: list[float] | None = None
    # Successive displayed outputs (partials, then the final) for normalized erasure.
    outputs: list[str] = field(default_factory=list)
    first_latency_ms: float | None = None
    final_latency_ms: float | None = None
    # Refinement pass: the final first delivered (``hypothesis`` is then the revision that
    # replaced it) and the time from the last input to that revision.
    first_final: str | None = None
    revision_latency_ms: float | None = None
    compute_ms: float = 0.0
    # Computation per stage (speech: "asr", "mt"), for latency breakdowns.
    stage_ms: dict[str, float] = field(default_factory=dict)
    transcript_ref: str | None = None  # speech: what was said
    transcript_hyp: str | None = None  # speech: what ASR heard
    checks: list[CheckResult] = field(default_factory=list)
    arm: str | None = None  # canary: which config served it
    error: str | None = None

    @classmethod
    def failed(cls, segment: Any, error: RttError) -> SegmentTrace:
        """The trace of a segment whose run raised a structured error (kept, not dropped)."""
        return cls(
            segment.id, segment.source_lang, segment.target_lang, segment.source, segment.reference,
            error=f"{error.code}: {error.message}",
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
