"""Speech runs: stream each clip through ASR → simultaneous MT and record what was shown when.

Pacing (``realtime=True``, the default) simulates a live speaker without sleeping: audio arrives
at its own pace (1 s of audio per 1 s of time), the system decides whenever it is free and at
least one more step (``step_ms``) of audio has arrived, and each decision takes its measured
computation time.  A system slower than real time therefore sees larger chunks and falls
behind, exactly as it would live.  Every committed target word records:

* its *delay*: milliseconds of audio read when it was committed (SimulEval's non-computation-
  aware delay, which AL/LAAL/DAL/AP/StartOffset/EndOffset use);
* its *elapsed* time: when it was shown, from the stream start (the computation-aware time;
  with ``realtime=False`` it is SimulEval's ``delay + computation so far`` instead).

First-partial latency runs from the stream start to the first text shown; final latency from
the end of the audio to the final translation.  WER compares the final ASR transcript with the
clip's transcript (normalization in :mod:`rtt.metrics.wer`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from rtt.audio.pcm import PIPELINE_RATE
from rtt.errors import RttError
from rtt.eval.cascade import SpeechCascade, asr_config_from, load_asr
from rtt.eval.checks import run_checks
from rtt.eval.segments import EvalSegment, load_clip, suite_segments
from rtt.eval.session_runner import run_session
from rtt.eval.suite import SuiteSpec, repo_relative
from rtt.eval.traces import SegmentTrace

MS = PIPELINE_RATE / 1000  # samples per millisecond


def run_speech_segment(
    cascade: SpeechCascade, seg: EvalSegment, audio: np.ndarray, realtime: bool = True
) -> SegmentTrace:
    trace = SegmentTrace(seg.id, seg.source_lang, seg.target_lang, seg.source, seg.reference)
    trace.transcript_ref = seg.transcript
    trace.elapsed = []
    cascade.reset()
    total = len(audio)
    trace.source_length = total / MS
    if total == 0:
        trace.error = "empty audio"
        return trace
    pos, busy, compute = 0, 0.0, 0.0
    step = cascade.step_samples
    while True:
        if realtime:
            arrived = int(busy * MS)  # everything spoken while the system was busy
            pos = min(total, max(pos + step, arrived))
            start = max(busy, pos / MS)
        else:
            pos = min(total, pos + step)
            start = busy
        finished = pos >= total
        out = cascade.feed(audio[:pos], finished)
        compute += out.compute_ms
        trace.stage_ms["asr"] = trace.stage_ms.get("asr", 0.0) + out.asr_ms
        trace.stage_ms["mt"] = trace.stage_ms.get("mt", 0.0) + out.compute_ms - out.asr_ms
        busy = start + out.compute_ms
        shown_at = busy if realtime else pos / MS + compute
        for _ in out.new_target:
            trace.delays.append(pos / MS)
            trace.elapsed.append(shown_at)
        if out.shown and (not trace.outputs or trace.outputs[-1] != out.shown):
            trace.outputs.append(out.shown)
            if trace.first_latency_ms is None:
                trace.first_latency_ms = shown_at
        if finished:
            break
    trace.compute_ms = compute
    trace.final_latency_ms = (busy if realtime else total / MS + compute) - total / MS
    trace.hypothesis = trace.outputs[-1] if trace.outputs else ""
    trace.transcript_hyp = cascade.transcript
    trace.checks = run_checks(seg, trace.hypothesis)
    return trace


def run_speech(
    cascade_for: Callable[[str, str], SpeechCascade],
    segments: Sequence[EvalSegment],
    realtime: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> list[SegmentTrace]:
    traces = []
    if isinstance(cascade_for, CascadeFactory):
        from rtt.eval.text_runner import warm_up

        warm_up(cascade_for.translator, {(s.source_lang, s.target_lang) for s in segments}, [cascade_for.kw["tier"]])
    for i, seg in enumerate(segments):
        try:
            assert seg.audio is not None, "speech segment without audio"
            trace = run_speech_segment(cascade_for(seg.source_lang, seg.target_lang), seg, load_clip(seg.audio), realtime)
        except RttError as exc:
            trace = SegmentTrace.failed(seg, exc)
        traces.append(trace)
        if progress:
            progress(i + 1, len(segments))
    return traces


class CascadeFactory:
    """One loaded ASR model and translator, a fresh cascade per direction."""

    def __init__(self, config: Any, translator: Any = None, asr: Any = None, *, policy: str | None = None,
                 stabilization: str | None = None, tier: str | None = None, step_ms: int | None = None) -> None:
        self.config = config
        self._own_translator = translator is None
        if translator is None:
            from rtt.translator import Translator

            translator = Translator(config)
        self.translator = translator
        self.asr = asr if asr is not None else load_asr(config)
        self.kw = {"policy": policy, "stabilization": stabilization, "tier": tier}
        self.step_ms = step_ms or config.asr.partial_interval_ms
        self._cache: dict[tuple[str, str], SpeechCascade] = {}

    def __call__(self, src: str, tgt: str) -> SpeechCascade:
        if (src, tgt) not in self._cache:
            self._cache[(src, tgt)] = SpeechCascade(
                self.asr, self.translator, src, tgt, asr_config=asr_config_from(self.config), step_ms=self.step_ms,
                **self.kw,  # type: ignore[arg-type]
            )
        return self._cache[(src, tgt)]

    def close(self) -> None:
        if self._own_translator:
            self.translator.close()


KEEP_CONFIG = "config"  # run_speech_suite: the Session's refinement as the config sets it


def run_speech_suite(
    config: Any,
    suite: SuiteSpec,
    policy: str | None,
    stabilization: str | None,
    tier: str | None,
    label: str,
    *,
    limit: int | None = None,
    pairs: Sequence[str] | None = None,
    quiet: bool = False,
    realtime: bool = True,
    engine: str = "session",
    factory: CascadeFactory | None = None,
    refine_tier: str | None = KEEP_CONFIG,
) -> list[dict[str, Any]]:
    """``engine``: ``session`` (the service's Session, real sleeps) or ``cascade`` (step by step).
    ``refine_tier``: the Session's refinement pass (``None`` = off); by default the config's."""
    from rtt.eval.runs import run_record, stderr_progress

    own = factory is None
    components = None
    if engine == "session":
        from rtt.pipeline.components import Components

        if refine_tier != KEEP_CONFIG:
            config = config.model_copy(update={"mt": config.mt.model_copy(update={"refine_tier": refine_tier})})
        components = Components(config)
    elif factory is None:
        factory = CascadeFactory(config, policy=policy, stabilization=stabilization, tier=tier)
    records = []
    try:
        for src, tgt in suite.split_pairs():
            pair = f"{src}-{tgt}"
            if pairs and pair not in pairs:
                continue
            segments = suite_segments(suite, src, tgt, limit)
            if not segments:
                continue
            progress = None if quiet else stderr_progress(f"{suite.name} {pair} {label}")
            if components is not None:
                traces = run_session(components, segments, policy=policy, stabilization=stabilization, tier=tier,
                                     realtime=realtime, progress=progress)
            else:
                assert factory is not None
                traces = run_speech(factory, segments, realtime, progress)
            rec = run_record(traces, suite=suite.name, domain=suite.domain, pair=pair, modality="speech",
                             policy=label, tier=tier, final_tier=None,
                             refine_tier=config.mt.refine_tier if components is not None else None)
            rec["realtime"] = realtime
            rec["speech_engine"] = engine
            if suite.origin:
                rec["suite_path"] = repo_relative(suite.origin)
            records.append(rec)
    finally:
        if components is not None:
            components.close()
        elif own and factory is not None:
            factory.close()
    return records
