"""``rtt bench mt|waitk|speech|asr|serve|refine``: measurements written as JSON under ``reports/``."""

from __future__ import annotations

import argparse
from pathlib import Path

from rtt.config import load_config


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("bench", help="run a benchmark and write JSON under reports/")
    bsub = p.add_subparsers(dest="bench_command", metavar="BENCH")

    mt = bsub.add_parser("mt", help="chrF/BLEU and ms per sentence for every engine and direction (FLORES)")
    mt.add_argument("--config")
    mt.add_argument("--engines", help="comma-separated engine names (default: all in the config)")
    mt.add_argument("--directions", help="comma-separated, e.g. es-en,en-de (default: all 12 among en/es/de/fr)")
    mt.add_argument("--limit", type=int, default=50, help="FLORES lines per direction (0 = all 506)")
    mt.add_argument("--force", action="store_true", help="re-measure rows already in the output")
    mt.add_argument("--threads", type=int, help="override every engine's thread count")
    mt.add_argument("--out", type=Path, default=Path("reports/mt/quality.json"))
    mt.set_defaults(func=_mt)

    wk = bsub.add_parser("waitk", help="quality-latency curve of simultaneous policies on one engine")
    wk.add_argument("--config")
    wk.add_argument("--engine", default="qwen-0.5b")
    wk.add_argument("--directions", default="es-en,en-de")
    wk.add_argument("--policies", default="wait-1,wait-3,wait-5,wait-7,local-agreement-2,full-sentence")
    wk.add_argument("--limit", type=int, default=30)
    wk.add_argument("--force", action="store_true")
    wk.add_argument("--threads", type=int, help="override the engine's thread count")
    wk.add_argument("--out", type=Path, default=Path("reports/mt/waitk.json"))
    wk.set_defaults(func=_waitk)

    for optional in ("rtt.bench.speech", "rtt.bench.peer", "rtt.bench.serve", "rtt.bench.refine", "rtt.bench.tracing",
                     "rtt.bench.session_trace", "rtt.bench.vocabulary", "rtt.bench.diarization", "rtt.bench.targets"):
        try:
            module = __import__(optional, fromlist=["register"])
        except ImportError:
            continue
        if hasattr(module, "register"):
            module.register(bsub)
    p.set_defaults(func=lambda a: (p.print_help(), 2)[1])


def _csv(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def _config(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    config = load_config(args.config)
    if args.threads:
        for engine in config.mt.engines.values():
            engine.threads = args.threads
    return config


def _mt(args: argparse.Namespace) -> int:
    from rtt.bench.mt import DIRECTIONS, run_quality

    config = _config(args)
    run_quality(
        config,
        args.out,
        _csv(args.engines) or list(config.mt.engines),
        _csv(args.directions) or DIRECTIONS,
        args.limit or None,
        args.force,
    )
    return 0


def _waitk(args: argparse.Namespace) -> int:
    from rtt.bench.mt import run_waitk

    config = _config(args)
    run_waitk(
        config, args.out, args.engine, _csv(args.directions) or [], _csv(args.policies) or [], args.limit or None, args.force
    )
    return 0
