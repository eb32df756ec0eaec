"""``rtt eval`` (text / speech / suite runs on any files), ``rtt experiment`` (run an experiment
into ``reports/X/``, build the leaderboard), ``rtt gate`` (regression gate) and ``rtt canary``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from rtt.errors import InvalidInput


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    ev = sub.add_parser("eval", help="evaluate on your own files or a golden suite")
    evsub = ev.add_subparsers(dest="eval_command", metavar="KIND")

    t = evsub.add_parser("text", help="stream a source file word by word through a policy and score it")
    t.add_argument("--src", required=True, help="source file, one segment per line")
    t.add_argument("--ref", help="reference file, line-aligned with --src")
    _direction(t)
    _streaming(t)
    t.add_argument("--final-tier", help="re-translate finished sentences with this tier")
    t.add_argument("--word-interval-ms", type=float, default=0.0,
                   help="simulated time between source words (0 = timings are computation only)")
    _common(t)
    t.set_defaults(func=_eval_text)

    s = evsub.add_parser("speech", help="stream audio clips through ASR + MT and score them")
    s.add_argument("--audio-list", required=True, help="file listing one audio path per line")
    s.add_argument("--transcripts", help="what was said, one line per clip (for WER)")
    s.add_argument("--refs", help="reference translations, one line per clip")
    _direction(s)
    _streaming(s)
    s.add_argument("--no-realtime", action="store_true", help="do not pace the audio at real time")
    s.add_argument("--engine", choices=["session", "cascade"], default="session",
                   help="session: the service's pipeline (VAD, async stages, real sleeps); "
                        "cascade: step-by-step ASR->MT with exact per-word delays")
    s.add_argument("--step-ms", type=int, help="cascade: audio between decisions (default: asr.partial_interval_ms)")
    _common(s)
    s.set_defaults(func=_eval_speech)

    g = evsub.add_parser("suite", help="run one golden suite (golden_sets/*.yaml)")
    g.add_argument("suite")
    g.add_argument("--pairs", nargs="+", help="only these directions (es-en ...)")
    _streaming(g)
    g.add_argument("--final-tier")
    _common(g)
    g.set_defaults(func=_eval_suite)

    ex = sub.add_parser("experiment", help="run experiments and build the leaderboard")
    exsub = ex.add_subparsers(dest="experiment_command", metavar="ACTION")
    r = exsub.add_parser("run", help="evaluate experiments/X.yaml on its suites into reports/X/")
    r.add_argument("experiment")
    r.add_argument("--limit", type=int, help="segments per suite direction")
    r.add_argument("--suite", action="append", help="run these suites instead of the experiment's")
    r.add_argument("--pairs", nargs="+", help="only these directions")
    r.add_argument("--out", help="report folder (default reports/<name>)")
    r.add_argument("--threads", type=int, help="CPU threads for every engine (outputs unchanged, timings not)")
    r.set_defaults(func=_experiment_run)
    lb = exsub.add_parser("leaderboard", help="rank reports/*/results.json into a markdown table")
    lb.add_argument("results", nargs="+")
    lb.add_argument("--out", default="reports/leaderboard.md")
    lb.add_argument("--note", default="", help="a line under the title (data, limit, machine)")
    lb.add_argument("--pairs", nargs="+", help="rank on these directions only (means recomputed)")
    lb.add_argument("--baseline", help="experiment name whose results become --baseline-out")
    lb.add_argument("--baseline-out", default="reports/baseline.json")
    lb.set_defaults(func=_leaderboard)

    gt = sub.add_parser("gate", help="fail when a candidate regresses against a baseline")
    gt.add_argument("--baseline", required=True, help="results.json of the baseline")
    gt.add_argument("--candidate", required=True, help="results.json of the candidate")
    gt.add_argument("--suite", action="append", help="gate only these suites, with their tolerances")
    gt.add_argument("--verbose", "-v", action="store_true", help="show passing checks too")
    gt.add_argument("--metrics-out", type=Path,
                    help="also write the result in Prometheus text format (textfile collector; deploy/alerts.yml)")
    gt.set_defaults(func=_gate)

    c = sub.add_parser("canary", help="replay a suite with a share of segments on a candidate config")
    c.add_argument("--baseline", required=True, help="rtt config or experiment YAML")
    c.add_argument("--candidate", required=True, help="rtt config or experiment YAML")
    c.add_argument("--share", type=float, default=0.1, help="fraction of segments routed to the candidate")
    c.add_argument("--suite", default="golden_sets/general.yaml")
    c.add_argument("--pairs", nargs="+")
    c.add_argument("--limit", type=int, help="segments per suite direction")
    c.add_argument("--salt", default=None, help="routing salt (a new salt reshuffles the arms)")
    c.add_argument("--no-qe", action="store_true", help="skip QE similarity")
    c.add_argument("--shadow", action="store_true",
                   help="replay every segment through both arms (paired comparison; --share only labels the run)")
    c.add_argument("--json", dest="json_out")
    c.set_defaults(func=_canary)


# -- argument groups ------------------------------------------------------------------------
def _direction(p: argparse.ArgumentParser) -> None:
    p.add_argument("--from", dest="source", required=True, help="source language")
    p.add_argument("--to", dest="target", required=True, help="target language")


def _streaming(p: argparse.ArgumentParser) -> None:
    p.add_argument("--policy", help="wait-K, local-agreement-N or full-sentence (default: the config's)")
    p.add_argument("--stabilization", choices=["fast", "balanced", "aggressive"])
    p.add_argument("--tier", help="live tier (default: the config's default tier)")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="rtt config YAML (default: the packaged default)")
    p.add_argument("--limit", type=int, help="evaluate only the first N segments")
    p.add_argument("--json", dest="json_out", help="write the results here")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")


def _write_json(path: str | None, doc: dict[str, Any]) -> None:
    if not path:
        return
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)


def _run_doc(record: dict[str, Any], config: Any, config_path: str | None, tiers: list[str], speech: bool) -> dict[str, Any]:
    from rtt.eval.provenance import environment, model_versions

    doc: dict[str, Any] = {"schema": "rtt.eval.run", "schema_version": 1}
    doc.update(record)
    doc["config"] = {"name": config.name, "version": config.version, "path": config_path or "(packaged default)"}
    doc["models"] = model_versions(config, tiers, speech=speech)
    doc["environment"] = environment()
    return doc


# -- eval -------------------------------------------------------------------------------------
def _eval_text(args: argparse.Namespace) -> int:
    from rtt.config import load_config
    from rtt.eval.report import text_table
    from rtt.eval.runs import policy_label, run_record, stderr_progress
    from rtt.eval.segments import file_segments
    from rtt.eval.text_runner import TextRunSettings, run_text
    from rtt.translator import Translator

    config = load_config(args.config)
    segments = file_segments(args.src, args.ref, args.source, args.target, args.limit)
    if not segments:
        raise InvalidInput(f"{args.src} has no non-empty line", code="EMPTY_TEXT")
    tier = args.tier or config.mt.default_tier
    final_tier = args.final_tier or config.mt.final_tier
    final_tier = None if final_tier == tier else final_tier
    label = policy_label(args.policy, args.stabilization, config.policy.name, config.policy.stabilization)
    settings = TextRunSettings(args.policy, args.stabilization, tier, final_tier, args.word_interval_ms)
    translator = Translator(config)
    try:
        traces = run_text(translator, segments, settings, None if args.quiet else stderr_progress(f"{args.source}-{args.target}"))
    finally:
        translator.close()
    record = run_record(traces, suite="file", domain="user", pair=f"{args.source}-{args.target}", modality="text",
                        policy=label, tier=tier, final_tier=final_tier)
    print(text_table([record]))
    _write_json(args.json_out, _run_doc(record, config, args.config, [t for t in (tier, final_tier) if t], False))
    return 0


def _lines(path: str | None, n: int, what: str) -> list[str | None]:
    if not path:
        return [None] * n
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    if len(lines) < n:
        raise InvalidInput(f"{what} {path} has {len(lines)} lines for {n} clips", code="LINE_COUNT_MISMATCH")
    return list(lines[:n])


def _eval_speech(args: argparse.Namespace) -> int:
    from rtt.config import load_config
    from rtt.eval.report import text_table
    from rtt.eval.runs import policy_label, run_record, stderr_progress
    from rtt.eval.segments import EvalSegment
    from rtt.eval.speech_runner import CascadeFactory, run_speech

    config = load_config(args.config)
    listing = Path(args.audio_list)
    clips = [ln.strip() for ln in listing.read_text(encoding="utf-8").splitlines() if ln.strip()]
    if args.limit:
        clips = clips[: args.limit]
    if not clips:
        raise InvalidInput(f"{listing} lists no audio file", code="EMPTY_LIST")
    transcripts = _lines(args.transcripts, len(clips), "transcripts")
    refs = _lines(args.refs, len(clips), "references")
    segments = []
    for i, (clip, tr, ref) in enumerate(zip(clips, transcripts, refs, strict=True)):
        path = Path(clip) if Path(clip).is_absolute() else listing.parent / clip
        segments.append(EvalSegment(f"file:{args.source}-{args.target}:{i}", tr or "", ref, args.source, args.target,
                                    audio=path, transcript=tr))
    tier = args.tier or config.mt.default_tier
    label = policy_label(args.policy, args.stabilization, config.policy.name, config.policy.stabilization)
    progress = None if args.quiet else stderr_progress(f"{args.source}-{args.target} speech")
    if args.engine == "session":
        from rtt.eval.session_runner import run_session
        from rtt.pipeline.components import Components

        components = Components(config)
        try:
            traces = run_session(components, segments, policy=args.policy, stabilization=args.stabilization,
                                 tier=tier, realtime=not args.no_realtime, progress=progress)
        finally:
            components.close()
    else:
        factory = CascadeFactory(config, policy=args.policy, stabilization=args.stabilization, tier=tier,
                                 step_ms=args.step_ms)
        try:
            traces = run_speech(factory, segments, not args.no_realtime, progress)
        finally:
            factory.close()
    record = run_record(traces, suite="file", domain="user", pair=f"{args.source}-{args.target}", modality="speech",
                        policy=label, tier=tier, final_tier=None)
    record["realtime"] = not args.no_realtime
    record["speech_engine"] = args.engine
    print(text_table([record]))
    _write_json(args.json_out, _run_doc(record, config, args.config, [tier], True))
    return 0


def _eval_suite(args: argparse.Namespace) -> int:
    from rtt.config import load_config
    from rtt.eval.report import text_table
    from rtt.eval.runs import iter_text_suite, policy_label
    from rtt.eval.suite import load_suite
    from rtt.eval.text_runner import TextRunSettings
    from rtt.translator import Translator

    config = load_config(args.config)
    suite = load_suite(args.suite)
    tier = args.tier or config.mt.default_tier
    final_tier = args.final_tier or config.mt.final_tier
    final_tier = None if final_tier == tier else final_tier
    label = policy_label(args.policy, args.stabilization, config.policy.name, config.policy.stabilization)
    if suite.modality == "speech":
        from rtt.eval.speech_runner import run_speech_suite

        records = run_speech_suite(config, suite, args.policy, args.stabilization, tier, label, limit=args.limit,
                                   pairs=args.pairs, quiet=args.quiet)
    else:
        translator = Translator(config)
        try:
            settings = TextRunSettings(args.policy, args.stabilization, tier, final_tier)
            records = list(iter_text_suite(translator, suite, settings, label, limit=args.limit,
                                           pairs=args.pairs, quiet=args.quiet))
        finally:
            translator.close()
    print(text_table(records))
    from rtt.eval.provenance import environment, model_versions

    _write_json(args.json_out, {
        "schema": "rtt.eval.results", "schema_version": 1, "suite": suite.name,
        "config": {"name": config.name, "version": config.version, "path": args.config or "(packaged default)"},
        "models": model_versions(config, [t for t in (tier, final_tier) if t], speech=suite.modality == "speech"),
        "environment": environment(), "runs": records,
    })
    return 0


# -- experiments ------------------------------------------------------------------------------
def _experiment_run(args: argparse.Namespace) -> int:
    from rtt.eval.experiment import load_experiment, run_experiment
    from rtt.eval.report import text_table, write_report

    spec = load_experiment(args.experiment)
    folder = args.out or Path("reports") / spec.name

    def checkpoint(partial: dict[str, Any]) -> None:
        # Each finished run is on disk at once: a long evaluation that is stopped keeps it.
        write_report(partial, folder)

    doc = run_experiment(spec, limit=args.limit, suites=args.suite, pairs=args.pairs, threads=args.threads,
                         on_run=checkpoint)
    out = write_report(doc, folder)
    print(text_table(doc["runs"]))
    print(f"wrote {out}/results.json, {out}/README.md", file=sys.stderr)
    return 0


def _load_json(path: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InvalidInput(f"{path} does not exist", code="FILE_NOT_FOUND") from exc
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path} is not valid JSON: {exc.msg}", code="INVALID_RESULTS") from exc
    if not isinstance(data, dict) or "runs" not in data:
        raise InvalidInput(f"{path} is not a results document (no 'runs')", code="INVALID_RESULTS")
    return data


def _leaderboard(args: argparse.Namespace) -> int:
    from rtt.eval.report import leaderboard

    docs = [_load_json(p) for p in args.results]
    docs = [d for d in docs if "experiment" in d]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(leaderboard(docs, args.note, args.pairs), encoding="utf-8")
    print(Path(args.out).read_text(encoding="utf-8"))
    if args.baseline:
        chosen = [d for d in docs if d["experiment"]["name"] == args.baseline]
        if not chosen:
            raise InvalidInput(f"no results for experiment {args.baseline!r}", code="NOT_FOUND")
        slim = dict(chosen[0])
        slim["runs"] = [{k: v for k, v in r.items() if k != "segments"} for r in chosen[0]["runs"]]
        _write_json(args.baseline_out, slim)
    return 0


# -- gate / canary ------------------------------------------------------------------------------
def _gate(args: argparse.Namespace) -> int:
    from rtt.eval.gate import gate
    from rtt.eval.suite import load_suite

    suites = [load_suite(s) for s in (args.suite or [])]
    report = gate(_load_json(args.baseline), _load_json(args.candidate), suites)
    print(report.render(verbose=args.verbose))
    if args.metrics_out:
        # Written whole then renamed: a collector never reads half a file.
        tmp = args.metrics_out.with_suffix(args.metrics_out.suffix + ".tmp")
        tmp.write_text(report.to_prometheus())
        tmp.replace(args.metrics_out)
    return 0 if report.passed else 1


def _arm(path: str) -> tuple[Any, Any, str]:
    """(config, settings, name) from an rtt config or an experiment file."""
    from rtt.config import load_config
    from rtt.eval.experiment import experiment_config, load_experiment
    from rtt.eval.text_runner import TextRunSettings

    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) if Path(path).is_file() else None
    if isinstance(raw, dict) and "suites" in raw:
        spec = load_experiment(path)
        config, _ = experiment_config(spec)
        policy = spec.policies()[0]
        tier = spec.tier or config.mt.default_tier
        final = spec.final_tier or config.mt.final_tier
        return config, TextRunSettings(policy, spec.stabilization, tier, None if final == tier else final,
                                       spec.word_interval_ms), spec.name
    config = load_config(path)
    final = config.mt.final_tier if config.mt.final_tier != config.mt.default_tier else None
    return config, TextRunSettings(None, None, config.mt.default_tier, final), config.name


def _canary(args: argparse.Namespace) -> int:
    from rtt.eval.canary import DEFAULT_SALT, render, run_canary
    from rtt.eval.segments import suite_segments
    from rtt.eval.suite import load_suite
    from rtt.metrics.qe import QE_LABEL
    from rtt.translator import Translator

    if not 0 < args.share < 1:
        raise InvalidInput("--share must be between 0 and 1", code="INVALID_SHARE")
    suite = load_suite(args.suite)
    base_cfg, base_set, base_name = _arm(args.baseline)
    cand_cfg, cand_set, cand_name = _arm(args.candidate)
    segments = [s for src, tgt in suite.split_pairs() if not args.pairs or f"{src}-{tgt}" in args.pairs
                for s in suite_segments(suite, src, tgt, args.limit)]
    base_tr, cand_tr = Translator(base_cfg), Translator(cand_cfg)
    try:
        result = run_canary(base_tr, cand_tr, segments, args.share, base_set, cand_set,
                            salt=args.salt or DEFAULT_SALT, with_qe=not args.no_qe, shadow=args.shadow)
    finally:
        base_tr.close()
        cand_tr.close()
    print(f"baseline: {base_name}   candidate: {cand_name}   suite: {suite.name} ({len(segments)} segments)")
    print(render(result, args.share))
    _write_json(args.json_out, {
        "schema": "rtt.eval.canary", "schema_version": 1, "suite": suite.name, "share": args.share,
        "qe_similarity_label": QE_LABEL, "shadow": args.shadow,
        "baseline": {"name": base_name, "metrics": result.baseline},
        "candidate": {"name": cand_name, "metrics": result.candidate},
        "go": result.go, "reasons": result.reasons,
        "significance": {name: {"baseline": r.baseline, "candidate": r.candidate, "delta": r.delta,
                                "p_value": r.p_value, "ci": list(r.ci), "significant": r.significant,
                                "signature": r.signature} for name, r in result.significance.items()},
        "segments": [{"id": t.segment_id, "arm": t.arm, "source": t.source, "reference": t.reference,
                      "hypothesis": t.hypothesis, "final_latency_ms": t.final_latency_ms, "error": t.error}
                     for t in result.traces],
    })
    return 0 if result.go else 1
