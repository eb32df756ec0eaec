"""Speech runs through the live :class:`rtt.pipeline.session.Session` (VAD, async stages,
queues): the service's own path, audio pushed in 100 ms PCM16 chunks at real-time pace (real
sleeps) unless ``realtime=False``.

Against :mod:`rtt.eval.speech_runner` (the step-by-step cascade) this measures what a client
of the service sees, queueing and VAD endpointing included, at the price of wall-clock time
and of delays known only to the chunk: a committed target word's *delay* is the audio pushed
by the time the session emitted it (from the session clock), its *elapsed* time is that
emission time.  Under real-time pacing the two nearly coincide, which is the honest reading of
a live system.  Clips split by the VAD into several utterances are joined in order.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import numpy as np

from rtt.audio.pcm import PIPELINE_RATE
from rtt.eval.checks import run_checks
from rtt.eval.segments import EvalSegment, load_clip
from rtt.eval.traces import SegmentTrace

CHUNK_MS = 100


async def run_session_segment(
    components: Any,
    seg: EvalSegment,
    audio: np.ndarray,
    *,
    policy: str | None = None,
    stabilization: str | None = None,
    tier: str | None = None,
    realtime: bool = True,
) -> SegmentTrace:
    from rtt.pipeline import events as ev
    from rtt.pipeline.driver import drive_session
    from rtt.pipeline.session import Session, SessionOptions

    trace = SegmentTrace(seg.id, seg.source_lang, seg.target_lang, seg.source, seg.reference)
    trace.transcript_ref = seg.transcript
    trace.source_length = len(audio) / PIPELINE_RATE * 1000
    opts = SessionOptions(source_lang=seg.source_lang, target_lang=seg.target_lang, tts=False,
                          tier=tier, partial_results=True, word_timestamps=False)
    # The session's own defaults are the contract's; an evaluation runs the config's policy.
    opts.policy = policy or components.config.policy.name
    opts.stabilization = stabilization or components.config.policy.stabilization
    session = Session(components, opts)
    run = await drive_session(session, audio, chunk_ms=CHUNK_MS, realtime=realtime, clock=session.now_ms)
    events, end_ms = run.events, run.end_ms
    finals = sorted((e for e in events if isinstance(e, ev.FinalTranslation)), key=lambda e: e.utterance_id)
    asr = sorted((e for e in events if isinstance(e, ev.FinalAsr)), key=lambda e: e.utterance_id)
    errors = [e for e in events if isinstance(e, ev.ErrorEvent)]
    if errors:
        trace.error = f"{errors[0].code}: {errors[0].message}"
    done_text: dict[int, str] = {}
    trace.elapsed = []
    revised = {e.utterance_id: e for e in events if isinstance(e, ev.RevisedTranslation)}
    for e in sorted(events, key=lambda e: getattr(e, "at_ms", 0.0)):
        if isinstance(e, ev.PartialTranslation | ev.FinalTranslation | ev.RevisedTranslation):
            if isinstance(e, ev.FinalTranslation | ev.RevisedTranslation):
                done_text[e.utterance_id] = e.text
                current = ""
            else:
                current = e.text
            shown = " ".join([*(done_text[k] for k in sorted(done_text)), current]).strip()
            if shown and (not trace.outputs or trace.outputs[-1] != shown):
                trace.outputs.append(shown)
                if trace.first_latency_ms is None:
                    trace.first_latency_ms = e.at_ms
    for f in finals:
        for w in f.words:
            trace.delays.append(run.audio_pushed_by(w.emitted_ms))
            trace.elapsed.append(w.emitted_ms)
        for stage, ms in f.latency_ms.items():
            trace.stage_ms[stage] = trace.stage_ms.get(stage, 0.0) + ms
    if len(trace.elapsed) != len(trace.delays) or not trace.delays:
        trace.elapsed = None
    trace.hypothesis = " ".join(f.text for f in finals).strip()
    if revised:
        # The refinement pass: quality is scored on what stands after the revisions.
        trace.first_final = trace.hypothesis
        trace.hypothesis = ev.standing_text(finals, revised)
        last_rev = revised.get(finals[-1].utterance_id) if finals else None
        if last_rev is not None and last_rev.status != "skipped":
            trace.revision_latency_ms = last_rev.latency_ms.get("endpoint_to_revision")
    trace.transcript_hyp = ev.standing_text(asr, {e.utterance_id: e for e in events if isinstance(e, ev.RevisedAsr)})
    if finals:
        # From the VAD endpoint of the clip's last utterance, as a live user waits for it: a clip
        # with trailing silence gets its final before the file ends, so "after the end of the
        # audio" would read 0. A clip that ends mid-speech has no endpoint: then from its end.
        last = finals[-1]
        endpoint = last.latency_ms.get("endpoint_to_final")
        trace.final_latency_ms = endpoint if endpoint is not None else max(0.0, last.at_ms - end_ms)
    trace.checks = run_checks(seg, trace.hypothesis)
    return trace


def run_session(
    components: Any,
    segments: list[EvalSegment],
    *,
    policy: str | None = None,
    stabilization: str | None = None,
    tier: str | None = None,
    realtime: bool = True,
    progress: Any = None,
) -> list[SegmentTrace]:
    """Clips one after another, each in a fresh session sharing the loaded components."""
    from rtt.errors import RttError
    from rtt.eval.text_runner import warm_up

    # Models load lazily on first use; load them before any clock starts (a failure to load is
    # reported by the run itself, per segment).
    with contextlib.suppress(RttError):
        components.prewarm(asr=True, mt=True)
    warm_up(components.translator, {(s.source_lang, s.target_lang) for s in segments}, [tier])

    async def main() -> list[SegmentTrace]:
        traces = []
        for i, seg in enumerate(segments):
            try:
                assert seg.audio is not None, "speech segment without audio"
                trace = await run_session_segment(components, seg, load_clip(seg.audio), policy=policy,
                                                  stabilization=stabilization, tier=tier, realtime=realtime)
            except RttError as exc:
                trace = SegmentTrace.failed(seg, exc)
            traces.append(trace)
            if progress:
                progress(i + 1, len(segments))
        return traces

    return asyncio.run(main())
