"""Speech benchmarks: ASR tuning (``run_asr_tuning``) and the live pipeline (``run_speech_bench``).

Both read the 23 FLEURS clips in ``$RTT_SHARED_DATA/fleurs`` and write JSON under
``reports/speech/``.  Nothing here is asserted: the numbers are what the machine measured.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rtt import datasets
from rtt.audio.pcm import PIPELINE_RATE
from rtt.bench.common import machine, percentile, write_json
from rtt.datasets import SpeechClip

REPO = Path(__file__).resolve().parents[2]


def fleurs_clips(per_lang: int | None = None) -> list[SpeechClip]:
    """The FLEURS clips in name order (languages alphabetically), at most ``per_lang`` of each."""
    clips: list[SpeechClip] = []
    counts: dict[str, int] = {}
    for clip in sorted(datasets.fleurs_clips(), key=lambda c: c.clip_id):
        counts[clip.language] = counts.get(clip.language, 0) + 1
        if per_lang is None or counts[clip.language] <= per_lang:
            clips.append(clip)
    return clips


def flores_reference(line: int, lang: str) -> str:
    """FLORES devtest line ``line`` (1-based) in ``lang``, stripped (some lines end in spaces)."""
    return datasets.flores_line(lang, line).strip()


def speech_span(audio: np.ndarray) -> tuple[int, int]:
    """First speech start and last speech end (Silero, default endpointing), in samples."""
    from rtt.audio.framing import Framer
    from rtt.config import VadConfig
    from rtt.vad.endpointer import Endpointer, SegmentEnd, SegmentStart
    from rtt.vad.factory import make_vad

    cfg = VadConfig()
    vad = make_vad(cfg)
    ep = Endpointer(cfg, vad.frame_samples)
    framer = Framer(vad.frame_samples)
    start, end = None, None
    for f in framer.push(audio) + framer.flush():
        for e in ep.process(f, vad.probability(f)):
            if isinstance(e, SegmentStart) and start is None:
                start = e.start_sample
            elif isinstance(e, SegmentEnd):
                end = e.speech_end_sample
    for e in ep.flush():
        if isinstance(e, SegmentEnd):
            end = e.speech_end_sample
    if start is None:
        return 0, len(audio)
    return start, end if end is not None else len(audio)


def _median(xs: list[float]) -> float | None:
    return round(statistics.median(xs), 1) if xs else None


# -- ASR tuning ---------------------------------------------------------------------------------
def run_asr_tuning(
    out_path: Path = REPO / "reports" / "speech" / "asr_tuning.json",
    per_lang: int | None = 2,
    partial_clips_per_lang: int = 1,
    pad30_partial_clips: int = 2,
    step_s: float = 0.5,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Measures what makes a Whisper update cheap on this machine (see docs/speech.md)."""
    out_path = Path(out_path)
    from rtt.asr.base import DecodeOptions
    from rtt.asr.streaming import StreamingAsrConfig, UtteranceDecoder
    from rtt.asr.whisper_engine import WhisperEngine
    from rtt.audio.files import load_audio_file
    from rtt.config import AsrConfig
    from rtt.models.store import ModelStore

    cfg = AsrConfig()
    t0 = time.perf_counter()
    engine = WhisperEngine(ModelStore().resolve(cfg.model), cfg.compute_type, cfg.threads)
    load_s = time.perf_counter() - t0
    clips = fleurs_clips(per_lang=per_lang)
    refs = [c.transcript for c in clips]
    finals: dict[str, dict[str, list[Any]]] = {}
    partials: dict[str, dict[str, list[Any]]] = {}
    lid: dict[str, list[Any]] = {"correct_1s": [], "correct_2s": [], "ms": []}

    def add(table: dict[str, dict[str, list[Any]]], key: str, hyp: str, ms: float, extra: dict[str, float] | None = None) -> None:
        row = table.setdefault(key, {"hyps": [], "ms": []})
        row["hyps"].append(hyp)
        row["ms"].append(ms)
        for k, v in (extra or {}).items():
            row.setdefault(k, []).append(v)

    partial_refs: list[str] = []
    seen: dict[str, int] = {}
    for clip in clips:
        audio = load_audio_file(clip.audio)
        s, e = speech_span(audio)
        utt = audio[s:e]
        log(f"{clip.clip_id}: {len(utt) / PIPELINE_RATE:.1f} s of speech")
        # Finals: faster-whisper's own transcribe() with its defaults, then with the cheap settings.
        t = time.perf_counter()
        segs, _ = engine.model.transcribe(utt, language=clip.language)
        add(finals, "transcribe_defaults(beam5,vad_filter,fallback,pad30)", " ".join(x.text for x in segs), (time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        segs, _ = engine.model.transcribe(
            utt, language=clip.language, beam_size=1, vad_filter=False, temperature=0.0,
            without_timestamps=True, condition_on_previous_text=False,
        )
        add(finals, "transcribe_beam1_novad_nofallback_notimestamps(pad30)", " ".join(x.text for x in segs), (time.perf_counter() - t) * 1000)
        for window in ("pad30", "fit"):
            for beam in (1, 5):
                r = engine.decode(utt, DecodeOptions(language=clip.language, beam_size=beam, window=window))  # type: ignore[arg-type]
                add(finals, f"direct_{window}_beam{beam}", r.text, r.total_ms, {"encode_ms": r.encode_ms, "decode_ms": r.decode_ms})
        r = engine.decode(utt, DecodeOptions(language=clip.language, window="fit"))
        words = engine.align(r)
        t = time.perf_counter()
        words = engine.align(r)
        add(finals, "word_alignment_only(fit)", r.text, (time.perf_counter() - t) * 1000, {"words": float(len(words))})
        r = engine.decode(utt, DecodeOptions(language=clip.language, window="fit", prompt=flores_context_prompt(clip)))
        add(finals, "direct_fit_beam1_with_prompt(previous_sentence)", r.text, r.total_ms)
        # Language ID from the first 1 s / 2 s of speech.
        for secs in (1, 2):
            t = time.perf_counter()
            lang, _p = engine.detect_language(utt[: secs * PIPELINE_RATE], ("en", "es", "de", "fr"))
            lid[f"correct_{secs}s"].append(float(lang == clip.language))
            lid["ms"].append((time.perf_counter() - t) * 1000)
        # Partials every step_s of audio, as the live pipeline does (a subset: ~20 decodes per clip).
        seen[clip.language] = seen.get(clip.language, 0) + 1
        if seen[clip.language] > partial_clips_per_lang:
            continue
        partial_refs.append(clip.transcript)
        variants: dict[str, tuple[str, bool]] = {
            "fit_prefix(committed words forced)": ("fit", True),
            "fit_noprefix(full re-decode)": ("fit", False),
        }
        if len(partial_refs) <= pad30_partial_clips:  # 30 s encoder per call: the slowest, a subset
            variants["pad30_prefix"] = ("pad30", True)
        for key, (window, use_prefix) in variants.items():
            dec = UtteranceDecoder(engine, StreamingAsrConfig(window=window), language=clip.language)  # type: ignore[arg-type]
            if not use_prefix:
                dec._options = _no_prefix(dec._options)  # type: ignore[method-assign]
            n = int(step_s * PIPELINE_RATE)
            ms, shown = [], []
            for end in range(n, len(utt) + 1, n):
                hyp = dec.partial(utt[:end])
                ms.append(hyp.result.total_ms)
                shown.append(f"{hyp.committed} {hyp.tentative}".strip())
            final = dec.final(utt)
            add(partials, key, final.text, float(np.mean(ms)) if ms else 0.0,
                {"p95_ms": float(np.percentile(ms, 95)) if ms else 0.0, "calls": float(len(ms)),
                 "final_reused": float(final.reused_partial), "revisions": float(_revisions(shown))})
        write_json(out_path, _tuning_result(cfg, load_s, clips, refs, finals, partials, partial_refs, lid, done=False))
    result = _tuning_result(cfg, load_s, clips, refs, finals, partials, partial_refs, lid, done=True)
    write_json(out_path, result)
    return result


def _tuning_result(cfg: Any, load_s: float, clips: list[SpeechClip], refs: list[str], finals: dict[str, Any],
                   partials: dict[str, Any], partial_refs: list[str], lid: dict[str, list[Any]], done: bool) -> dict[str, Any]:
    n = len(next(iter(finals.values()))["hyps"]) if finals else 0
    refs = refs[:n]
    partial_n = {k: len(v["hyps"]) for k, v in partials.items()}
    return {
        "machine": machine(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "note": "2 CPU cores shared with other jobs (see load_average): absolute ms are inflated and noisy; "
                "compare variants within this run.",
        "model": cfg.model,
        "compute_type": cfg.compute_type,
        "model_load_s": round(load_s, 2),
        "clips": [c.clip_id for c in clips],
        "finals": {k: _summary(v, refs) for k, v in finals.items()},
        "complete": done,
        "partial_clips": partial_n,
        "partials": {k: _summary(v, partial_refs[: partial_n[k]]) for k, v in partials.items()},
        "language_id": {k: (round(float(np.mean(v)), 3) if v else None) for k, v in lid.items()},
    }


def flores_context_prompt(clip: SpeechClip) -> str:
    """The previous FLORES sentence in the clip's language: stands in for the previous utterance."""
    if clip.flores_line < 2:
        return ""
    return flores_reference(clip.flores_line - 1, clip.language)


def _no_prefix(make: Callable[..., Any]) -> Callable[..., Any]:
    import dataclasses

    def wrapped(*a: Any, **k: Any) -> Any:
        return dataclasses.replace(make(*a, **k), prefix="")

    return wrapped


def _revisions(shown: list[str]) -> int:
    from rtt.metrics.timeliness import segment_erasure

    return segment_erasure(shown).revisions if shown else 0


def _summary(row: dict[str, list[Any]], refs: list[str]) -> dict[str, Any]:
    from rtt.metrics.wer import word_error_rate

    out: dict[str, Any] = {
        "wer": round(word_error_rate(refs, row["hyps"]), 4),
        "mean_ms": round(float(np.mean(row["ms"])), 1),
        "median_ms": _median(row["ms"]),
    }
    for k, v in row.items():
        if k not in ("hyps", "ms"):
            out[f"mean_{k}"] = round(float(np.mean(v)), 2)
    return out




# -- live pipeline ------------------------------------------------------------------------------
TRAILING_SILENCE_S = 1.5  # after the clip, so the VAD endpoint happens as it would live
CHUNK_MS = 100


def _direction(lang: str) -> str:
    return "es" if lang == "en" else "en"


async def _stream_clip(components: Any, clip: SpeechClip, audio: np.ndarray, *, realtime: bool, stabilization: str,
                       policy: str | None = None, mode: str = "cascade",
                       word_timestamps: bool = False, refine: bool | None = None) -> dict[str, Any]:
    from rtt.pipeline.driver import drive_session
    from rtt.pipeline.session import Session, SessionOptions

    target = _direction(clip.language)
    opts = SessionOptions(source_lang=clip.language, target_lang=target, stabilization=stabilization,
                          policy=policy or components.config.policy.name, mode=mode,  # type: ignore[arg-type]
                          word_timestamps=word_timestamps, refinement=refine)
    session = Session(components, opts, session_id=clip.clip_id)
    run = await drive_session(session, audio, chunk_ms=CHUNK_MS, realtime=realtime,
                              trailing_silence_s=TRAILING_SILENCE_S, clock=session.now_ms)
    return {"clip": clip, "run": run, "stats": session.stats, "audio_s": len(audio) / PIPELINE_RATE}


def _clip_metrics(run: dict[str, Any]) -> dict[str, Any]:
    from rtt.metrics.timeliness import segment_erasure
    from rtt.pipeline import events as ev

    session_run = run["run"]
    events = session_run.events
    pushed_at = session_run.pushed_at

    asr = [e for e in events if isinstance(e, ev.FinalAsr)]
    mt = [e for e in events if isinstance(e, ev.FinalTranslation)]
    revised = {e.utterance_id: e for e in events if isinstance(e, ev.RevisedTranslation)}
    heard = {e.utterance_id: e for e in events if isinstance(e, ev.RevisedAsr)}
    out: dict[str, Any] = {
        "clip": run["clip"].clip_id,
        # what stands: the refinement pass's second decode where it made one
        "transcript": ev.standing_text(asr, heard),
        "final_transcript": " ".join(e.text for e in asr),
        "asr_revision_status": [heard[e.utterance_id].status for e in asr if e.utterance_id in heard],
        # what stands at the end: a final's revision where the refinement pass made one
        "translation": ev.standing_text(mt, revised),
        "first_final_translation": " ".join(e.text for e in mt),
        "revision_status": [revised[e.utterance_id].status for e in mt if e.utterance_id in revised],
        "endpoint_to_revision_ms": [r.latency_ms["endpoint_to_revision"] for r in revised.values()
                                    if r.status != "skipped" and "endpoint_to_revision" in r.latency_ms],
        "utterances": len(asr),
        "errors": [f"{e.code}: {e.message}" for e in events if isinstance(e, ev.ErrorEvent)],
        "endpoint_to_final_ms": [e.latency_ms.get("endpoint_to_final") for e in mt if "endpoint_to_final" in e.latency_ms],
        "speech_end_to_final_ms": [e.latency_ms["speech_end_to_final"] for e in mt if "speech_end_to_final" in e.latency_ms],
        "endpoint_to_asr_final_ms": [e.latency_ms["endpoint_to_asr_final"] for e in mt if "endpoint_to_asr_final" in e.latency_ms],
        "final_latency_ms": [dict(e.latency_ms) for e in mt],
        "stats": run["stats"],
        "audio_s": run["audio_s"],
    }
    # onset (the first voiced audio reached the session; FinalAsr.start_ms includes ~100 ms pre-roll)
    starts = {e.utterance_id: e for e in asr}
    onset_lat = []
    for uid, fa in starts.items():
        first = next((e for e in events if isinstance(e, ev.PartialAsr) and e.utterance_id == uid), None)
        if first is not None:
            onset_lat.append(first.at_ms - pushed_at(fa.start_ms + 100))
    out["onset_to_first_partial_ms"] = onset_lat
    # revisions of what the user saw
    asr_er, mt_er = [], []
    for uid, fa in starts.items():
        shown = [e.text for e in events if isinstance(e, ev.PartialAsr) and e.utterance_id == uid]
        if shown:
            asr_er.append(segment_erasure(shown, fa.text))
    for ft in mt:
        shown = [e.text for e in events if isinstance(e, ev.PartialTranslation) and e.utterance_id == ft.utterance_id]
        if shown:
            mt_er.append(segment_erasure(shown, ft.text))
    out["asr_erasure"] = asr_er
    out["mt_erasure"] = mt_er
    return out


def _counters(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for r in rows:
        for stage in ("asr", "mt"):
            for k, v in r["stats"].get(stage, {}).items():
                if not k.endswith("_total"):
                    out.setdefault(stage, {})[k] = out.get(stage, {}).get(k, 0) + v
    return out


def _erasure_summary(stats: list[Any]) -> dict[str, Any]:
    if not stats:
        return {"updates": 0}
    total = stats[0]
    for s in stats[1:]:
        total = total + s
    return {"updates": total.updates, "revision_rate": round(total.revision_rate, 3),
            "normalized_erasure": round(total.normalized_erasure, 3)}


def _pcts(values: list[float]) -> dict[str, float | None]:
    return {"n": len(values), "p50": _r(percentile(values, 50)), "p95": _r(percentile(values, 95)),
            "mean": _r(float(np.mean(values)) if values else None)}


def _r(x: float | None) -> float | None:
    return round(x, 1) if x is not None else None


def _aggregate(rows: list[dict[str, Any]], clips: list[SpeechClip]) -> dict[str, Any]:
    from rtt.metrics.quality import corpus_chrf
    from rtt.metrics.wer import word_error_rate

    by_name = {c.clip_id: c for c in clips}
    wer: dict[str, Any] = {}
    chrf: dict[str, Any] = {}
    for lang in sorted({by_name[r["clip"]].language for r in rows}):
        sel = [r for r in rows if by_name[r["clip"]].language == lang]
        refs = [by_name[r["clip"]].transcript for r in sel]
        wer[lang] = {"wer": round(word_error_rate(refs, [r["transcript"] for r in sel]), 4), "clips": len(sel)}
        if any(r.get("final_transcript", r["transcript"]) != r["transcript"] for r in sel):
            wer[lang]["wer_final"] = round(word_error_rate(refs, [r["final_transcript"] for r in sel]), 4)
        tgt = _direction(lang)
        refs, hyps, firsts = [], [], []
        for r in sel:
            c = by_name[r["clip"]]
            refs.append(flores_reference(c.flores_line, tgt))
            hyps.append(r["translation"])
            firsts.append(r.get("first_final_translation", r["translation"]))
        if refs:
            chrf[f"{lang}-{tgt}"] = {"chrF": round(corpus_chrf(hyps, refs).score, 2), "clips": len(refs)}
            if firsts != hyps:
                chrf[f"{lang}-{tgt}"]["chrF_first_final"] = round(corpus_chrf(firsts, refs).score, 2)
    flat = lambda key: [v for r in rows for v in r[key] if v is not None]  # noqa: E731
    asr_ms = sum(r["stats"].get("asr", {}).get("partial_ms_total", 0) + r["stats"].get("asr", {}).get("final_ms_total", 0)
                 for r in rows)
    mt_ms = sum(r["stats"].get("mt", {}).get("mt_ms_total", 0) for r in rows)
    audio_s = sum(r["audio_s"] for r in rows)
    return {
        "wer": wer,
        "chrf": chrf,
        "endpoint_to_final_ms": _pcts(flat("endpoint_to_final_ms")),
        "speech_end_to_final_ms": _pcts(flat("speech_end_to_final_ms")),
        "endpoint_to_asr_final_ms": _pcts(flat("endpoint_to_asr_final_ms")),
        "onset_to_first_partial_ms": _pcts(flat("onset_to_first_partial_ms")),
        "endpoint_to_revision_ms": _pcts(flat("endpoint_to_revision_ms")),
        "refinement": {status: sum(r.get("revision_status", []).count(status) for r in rows)
                       for status in ("revised", "unchanged", "skipped")},
        "asr_refinement": {status: sum(r.get("asr_revision_status", []).count(status) for r in rows)
                           for status in ("revised", "unchanged", "skipped")},
        "asr_revisions": _erasure_summary([s for r in rows for s in r["asr_erasure"]]),
        "mt_revisions": _erasure_summary([s for r in rows for s in r["mt_erasure"]]),
        "compute_rtf": {"asr": round(asr_ms / 1000 / audio_s, 3) if audio_s else None,
                        "mt": round(mt_ms / 1000 / audio_s, 3) if audio_s else None},
        "audio_s": round(audio_s, 1),
        "errors": [e for r in rows for e in r["errors"]],
    }


def _calibrate(components: Any, audio: np.ndarray, repeats: int = 3) -> dict[str, Any]:
    """Fixed work timed before the run: how loaded the machine was (compare with an idle run)."""
    from rtt.asr.base import DecodeOptions

    asr_ms, mt_ms = [], []
    five = audio[: 5 * PIPELINE_RATE]
    sentence = "Fue tanta la cantidad de gente que se concentró que no todos pudieron acceder al funeral."
    for _ in range(repeats):
        t = time.perf_counter()
        components.asr.decode(five, DecodeOptions(language=None, window="fit"))
        asr_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        components.translator.translate([sentence], "es", "en")
        mt_ms.append((time.perf_counter() - t) * 1000)
    return {"whisper_decode_5s_ms": _median(asr_ms), "mt_sentence_es_en_ms": _median(mt_ms),
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def run_speech_bench(
    out_path: Path = REPO / "reports" / "speech" / "bench.json",
    realtime: bool = True,
    clips: list[SpeechClip] | None = None,
    stabilization_modes: Sequence[str] = ("fast", "aggressive"),
    stabilization_clips_per_lang: int = 1,
    concurrency: Sequence[int] = (2,),
    concurrency_clips: int = 4,
    log: Callable[[str], None] = print,
    config_path: str | Path | None = None,
    direct: bool = True,
    word_timestamps: bool = False,
    compare_refinement: bool = False,
) -> dict[str, Any]:
    """The FLEURS clips through the live Session at real-time pace (see reports/speech/README.md).

    ``word_timestamps`` defaults to what the server does (off unless a client asks for them).
    ``compare_refinement`` streams every clip a second time with the refinement pass off,
    alternating the order, and reports both arms side by side."""
    import asyncio

    out_path = Path(out_path)

    from rtt.audio.files import load_audio_file
    from rtt.config import load_config
    from rtt.pipeline.components import Components

    config = load_config(config_path)
    components = Components.load(config)
    t = time.perf_counter()
    components.prewarm(asr=True, mt=True)
    # first calls load the MT weights of every live engine the clips will use
    for src, tgt in (("es", "en"), ("de", "en"), ("fr", "en"), ("en", "es")):
        components.translator.translate(["Hola."], src, tgt)
    if config.mt.refine_tier:
        components.translator.translate(["Hola."], "es", "en", tier=config.mt.refine_tier)
    components.translator.engines.warm_up()
    load_s = time.perf_counter() - t
    clips = clips or fleurs_clips()
    audio = {c.clip_id: load_audio_file(c.audio) for c in clips}
    load_avg_start = os.getloadavg()
    calibration = _calibrate(components, audio[clips[0].clip_id])
    log(f"calibration: {calibration}")

    def run_one(c: SpeechClip, stabilization: str, mode: str = "cascade", refine: bool | None = None) -> dict[str, Any]:
        run = asyncio.run(_stream_clip(components, c, audio[c.clip_id], realtime=realtime, stabilization=stabilization,
                                       mode=mode, word_timestamps=word_timestamps, refine=refine))
        row = _clip_metrics(run)
        label = f"{mode} {stabilization}" + (" no-refine" if refine is False else "")
        log(f"{c.clip_id} [{label}] endpoint->final {row['endpoint_to_final_ms']} | {row['translation'][:70]}")
        return row

    def run_all(sel: list[SpeechClip], stabilization: str, mode: str = "cascade") -> list[dict[str, Any]]:
        return [run_one(c, stabilization, mode) for c in sel]

    refine_on = bool(config.mt.refine_tier) and not config.mt.final_tier
    off_rows: list[dict[str, Any]] = []
    if compare_refinement and refine_on:
        # Side by side in one run, clip by clip (alternating which arm goes first), so both arms
        # see the same machine state: does the background refinement slow the live finals?
        main_rows: list[dict[str, Any]] = []
        for i, c in enumerate(clips):
            pair = [(None, main_rows), (False, off_rows)]
            for refine, rows in (pair if i % 2 == 0 else pair[::-1]):
                rows.append(run_one(c, config.policy.stabilization, refine=refine))
    else:
        main_rows = run_all(clips, config.policy.stabilization)
    result: dict[str, Any] = {
        "machine": machine(),
        "load_average_at_start": [round(x, 2) for x in load_avg_start],
        "realtime": realtime,
        "word_timestamps": word_timestamps,
        "config": {"path": str(config_path or "rtt/data/default.yaml"), "asr": config.asr.model_dump(),
                   "vad": config.vad.model_dump(), "policy": config.policy.model_dump(),
                   "mt_tier": config.mt.default_tier,
                   "mt_engines": {d: components.translator.engine_for(*d.split("-")).name
                                  for d in ("es-en", "de-en", "fr-en", "en-es")}},
        "models_load_s": round(load_s, 2),
        "calibration": calibration,
        "clips": len(clips),
        "main": _aggregate(main_rows, clips),
        # summed over the main run's sessions: decodes by kind, finals reused, MT steps, ...
        "counters": _counters(main_rows),
        "per_clip": [{k: v for k, v in r.items() if k not in ("asr_erasure", "mt_erasure", "stats")} for r in main_rows],
    }
    result["config"]["refine_tier"] = config.mt.refine_tier if refine_on else None
    if off_rows:
        arm_keys = ("chrf", "endpoint_to_final_ms", "speech_end_to_final_ms", "onset_to_first_partial_ms",
                    "endpoint_to_revision_ms", "refinement", "mt_revisions", "compute_rtf", "errors")
        off = _aggregate(off_rows, clips)
        result["refinement_vs_none"] = {"refinement": {k: result["main"][k] for k in arm_keys},
                                        "none": {k: off[k] for k in arm_keys}}
    write_json(out_path, result)
    # revision rate per stabilization mode, on a subset
    subset = fleurs_clips(per_lang=stabilization_clips_per_lang)
    modes: dict[str, Any] = {}
    for mode in stabilization_modes:
        rows = run_all(subset, mode)
        agg = _aggregate(rows, subset)
        modes[mode] = {k: agg[k] for k in ("mt_revisions", "asr_revisions", "endpoint_to_final_ms", "chrf")}
    base = _aggregate([r for r in main_rows if r["clip"] in {c.clip_id for c in subset}], subset)
    modes[config.policy.stabilization] = {k: base[k] for k in ("mt_revisions", "asr_revisions", "endpoint_to_final_ms", "chrf")}
    result["stabilization"] = {"clips": [c.clip_id for c in subset], "modes": modes}
    write_json(out_path, result)
    if direct:
        # Whisper's own speech->English translation on the same X->en clips, side by side
        to_en = [c for c in clips if c.language != "en"]
        direct_rows = run_all(to_en, config.policy.stabilization, mode="direct")
        keys = ("chrf", "endpoint_to_final_ms", "onset_to_first_partial_ms", "compute_rtf", "errors")
        direct_agg = _aggregate(direct_rows, to_en)
        cascade = _aggregate([r for r in main_rows if r["clip"] in {c.clip_id for c in to_en}], to_en)
        result["direct_vs_cascade"] = {
            "clips": [c.clip_id for c in to_en],
            "direct": {k: direct_agg.get(k) for k in keys},
            "cascade": {k: cascade.get(k) for k in keys},
        }
        write_json(out_path, result)
    # concurrent streams: N sessions share the models (and the 2 cores) at real-time pace
    conc: dict[str, Any] = {}
    sel = clips[:concurrency_clips]
    for n in concurrency:
        async def many(n: int = n) -> list[dict[str, Any]]:
            runs = []
            for c in sel:
                group = await asyncio.gather(*[_stream_clip(components, c, audio[c.clip_id], realtime=True,
                                                            stabilization=config.policy.stabilization,
                                                            word_timestamps=word_timestamps) for _ in range(n)])
                runs.extend(group)
            return runs

        rows = [_clip_metrics(r) for r in asyncio.run(many())]
        agg = _aggregate(rows, clips)
        conc[str(n)] = {k: agg[k] for k in ("endpoint_to_final_ms", "onset_to_first_partial_ms", "compute_rtf", "errors")}
        log(f"{n} concurrent: {conc[str(n)]['endpoint_to_final_ms']}")
    result["concurrency"] = {"clips": [c.clip_id for c in sel], "streams": conc}
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    write_json(out_path, result)
    components.close()
    return result


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("speech", help="the FLEURS clips through the live Session (WER, chrF, latency, revisions)")
    p.add_argument("--config", help="rtt config (default: the packaged default)")
    p.add_argument("--per-lang", type=int, help="clips per language (default: all 23 clips)")
    p.add_argument("--fast", action="store_true", help="stream as fast as possible instead of real-time pace")
    p.add_argument("--modes", default="fast,aggressive", help="extra stabilization modes, on one clip per language")
    p.add_argument("--concurrency", default="2", help="concurrent stream counts to measure (empty: none)")
    p.add_argument("--no-direct", action="store_true", help="skip the direct (Whisper translate) comparison")
    p.add_argument("--word-timestamps", action="store_true",
                   help="sessions ask for per-word times on FinalAsr (the server's default is off)")
    p.add_argument("--compare-refinement", action="store_true",
                   help="also stream every clip with the refinement pass off, side by side")
    p.add_argument("--out", type=Path, default=REPO / "reports" / "speech" / "bench.json")
    p.set_defaults(func=_cli)
    t = sub.add_parser("asr-tuning", help="what makes a Whisper update cheap (encoder window, prefix, beam)")
    t.add_argument("--per-lang", type=int, default=2)
    t.add_argument("--out", type=Path, default=REPO / "reports" / "speech" / "asr_tuning.json")
    t.set_defaults(func=_cli_tuning)


def _cli(args: argparse.Namespace) -> int:
    run_speech_bench(
        args.out,
        realtime=not args.fast,
        clips=fleurs_clips(per_lang=args.per_lang) if args.per_lang else None,
        stabilization_modes=[m for m in args.modes.split(",") if m],
        concurrency=[int(n) for n in args.concurrency.split(",") if n.strip()],
        config_path=args.config,
        direct=not args.no_direct,
        word_timestamps=args.word_timestamps,
        compare_refinement=args.compare_refinement,
    )
    print(f"wrote {args.out}")
    return 0


def _cli_tuning(args: argparse.Namespace) -> int:
    run_asr_tuning(args.out, per_lang=args.per_lang)
    print(f"wrote {args.out}")
    return 0
