"""Text runs: feed each source segment word by word to a simultaneous policy, as a live typist
or an upstream ASR would, and record what was shown when.

Time is simulated, not slept: word ``i`` *arrives* at ``i * word_interval_ms`` and the system
handles pushes one after another, each taking its measured wall time.  So with the default
interval of 0 the timings are pure computation, and with e.g. 400 ms (about 150 words a
minute) a push that waits for the next word does not count as latency.  First-partial latency
is from the first word's arrival to the first output shown; final latency is from the last
word's arrival to the final output.

When a run has a ``final_tier`` different from the live tier, the finished sentence is
re-translated by that tier (by the translator itself, as the service does for finals):
quality is scored on that text, its time counts into final latency, and replacing the streamed
text counts as erasure.  The committed live words keep their delays (AL is the live lag).

With a ``refine_tier`` (the refinement pass the service runs after each final) the fast final
is delivered and timed as usual; the translator's ``revise()`` then re-translates the sentence
and that revision is what quality is scored on (``chrf_first_final`` keeps the first final's
score).  Revision latency runs from the last word's arrival through the final to the revision;
the revision counts as one more displayed output for erasure, as a caption would change.
"""

from __future__ import annotations

import contextlib
import inspect
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from rtt.errors import RttError
from rtt.eval.checks import run_checks
from rtt.eval.segments import EvalSegment
from rtt.eval.traces import SegmentTrace


class StreamingTranslator(Protocol):
    """The part of :class:`rtt.translator.Translator` a text run uses: ``simultaneous(src, tgt,
    policy=, stabilization=, tier=, glossary=, formality=)`` and ``translate(texts, src, tgt, tier=, ...)``."""

    @property
    def simultaneous(self) -> Callable[..., Any]: ...

    @property
    def translate(self) -> Callable[..., Any]: ...


@dataclass(frozen=True)
class TextRunSettings:
    policy: str | None = None  # None: the config's policy
    stabilization: str | None = None
    tier: str | None = None
    final_tier: str | None = None
    word_interval_ms: float = 0.0
    refine_tier: str | None = None


def _glossary(seg: EvalSegment) -> Any:
    if not seg.glossary:
        return None
    from rtt.text.glossary import Glossary

    return Glossary.from_json(seg.glossary)


def _supported(fn: Callable[..., Any], options: dict[str, Any]) -> dict[str, Any]:
    """The segment options ``fn`` accepts as keywords (a set may carry options the translator
    of this version does not know; those are left out rather than failing the run)."""
    if not options:
        return {}
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return {}
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return dict(options)
    return {k: v for k, v in options.items() if k in params}


def _names_parameter(fn: Callable[..., Any], name: str) -> bool:
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def run_text_segment(
    translator: StreamingTranslator,
    seg: EvalSegment,
    settings: TextRunSettings,
    clock: Callable[[], float] = time.perf_counter,
) -> SegmentTrace:
    trace = SegmentTrace(seg.id, seg.source_lang, seg.target_lang, seg.source, seg.reference)
    words = seg.source.split()
    if not words:
        trace.error = "empty source"
        return trace
    kwargs: dict[str, Any] = {"policy": settings.policy, "stabilization": settings.stabilization, "tier": settings.tier}
    if seg.glossary:
        kwargs["glossary"] = _glossary(seg)
    if seg.formality:
        kwargs["formality"] = seg.formality
    kwargs.update(_supported(translator.simultaneous, seg.options))
    retranslate = bool(settings.final_tier and settings.final_tier != settings.tier)
    native_final = retranslate and _names_parameter(translator.simultaneous, "final_tier")
    if native_final:
        # The translator re-translates the finished sentence itself, as the service does.
        kwargs["final_tier"] = settings.final_tier
    refine = bool(settings.refine_tier) and not retranslate and _names_parameter(translator.simultaneous, "refine_tier")
    if refine:
        kwargs["refine_tier"] = settings.refine_tier
    sim = translator.simultaneous(seg.source_lang, seg.target_lang, **kwargs)
    busy_until = 0.0  # simulated ms at which the system is free again
    last = len(words) - 1
    committed_text = ""
    for i, word in enumerate(words):
        arrival = i * settings.word_interval_ms
        start = max(arrival, busy_until)
        t0 = clock()
        upd = sim.push(word, source_finished=i == last)
        took = (clock() - t0) * 1000
        trace.compute_ms += took
        busy_until = start + took
        committed_text = upd.committed_text
        shown = f"{upd.committed_text} {upd.tentative}".strip()
        if shown and (not trace.outputs or trace.outputs[-1] != shown):
            trace.outputs.append(shown)
            if trace.first_latency_ms is None:
                trace.first_latency_ms = busy_until
    trace.delays = [float(w.source_read) for w in sim.policy.emitted]
    trace.source_length = float(max(len(sim.policy.source), 1))
    final = committed_text
    if retranslate and not native_final:
        t0 = clock()
        out = translator.translate(
            [seg.source], seg.source_lang, seg.target_lang, tier=settings.final_tier,
            **_supported(translator.translate, {k: v for k, v in kwargs.items()
                                                if k not in ("policy", "stabilization", "tier", "final_tier")}),
        )[0]
        took = (clock() - t0) * 1000
        trace.compute_ms += took
        busy_until += took
        final = out.text
    if final and (not trace.outputs or trace.outputs[-1] != final):
        trace.outputs.append(final)
    if trace.first_latency_ms is None and final:
        trace.first_latency_ms = busy_until
    trace.final_latency_ms = busy_until - last * settings.word_interval_ms
    if refine and getattr(sim, "refinable", False):
        t0 = clock()
        revision = sim.revise()
        took = (clock() - t0) * 1000
        trace.compute_ms += took
        if revision is not None:
            trace.first_final = final
            trace.revision_latency_ms = trace.final_latency_ms + took
            final = revision.text
            if final and (not trace.outputs or trace.outputs[-1] != final):
                trace.outputs.append(final)
    trace.hypothesis = final
    trace.checks = run_checks(seg, final)
    return trace


def warm_up(translator: Any, directions: set[tuple[str, str]], tiers: Sequence[str | None]) -> None:
    """Load the engines a run will use before its clock starts: a model load inside the first
    segment would be reported as that segment's latency."""
    engine_for = getattr(translator, "engine_for", None)
    if engine_for is None:
        return
    for src, tgt in sorted(directions):
        for tier in tiers:
            with contextlib.suppress(RttError):  # the run itself records the error per segment
                engine_for(src, tgt, tier)


def run_text(
    translator: StreamingTranslator,
    segments: Sequence[EvalSegment],
    settings: TextRunSettings,
    progress: Callable[[int, int], None] | None = None,
) -> list[SegmentTrace]:
    """One trace per segment; an error in one segment is recorded, the run goes on."""
    warm_up(translator, {(s.source_lang, s.target_lang) for s in segments},
            [settings.tier] + [t for t in (settings.final_tier, settings.refine_tier) if t])
    traces = []
    for i, seg in enumerate(segments):
        try:
            trace = run_text_segment(translator, seg, settings)
        except RttError as exc:
            trace = SegmentTrace.failed(seg, exc)
            if exc.code in ("BACKEND_UNAVAILABLE", "MODEL_MISSING", "UNSUPPORTED_LANGUAGE"):
                # Every other segment of the run would fail the same way.
                traces.append(trace)
                traces.extend(_skipped(segments[i + 1:], f"{exc.code}: {exc.message}"))
                break
        traces.append(trace)
        if progress:
            progress(i + 1, len(segments))
    return traces


def _skipped(segments: Sequence[EvalSegment], why: str) -> list[SegmentTrace]:
    out = []
    for seg in segments:
        t = SegmentTrace(seg.id, seg.source_lang, seg.target_lang, seg.source, seg.reference)
        t.error = why
        out.append(t)
    return out
