"""``rtt`` command line: one sub-module per command group, plus commands contributed by other
installed packages through the ``rtt.commands`` entry-point group (``serve`` adds ``rtt serve``
that way, so the core never imports the service)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import metadata

from rtt.errors import RttError


def _plugin_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    for ep in metadata.entry_points(group="rtt.commands"):
        try:
            register = ep.load()
        except Exception as exc:  # a broken optional plugin must not break the core CLI
            print(f"rtt: command {ep.name!r} unavailable: {exc}", file=sys.stderr)
            continue
        register(sub)


def build_parser() -> argparse.ArgumentParser:
    from rtt.cli import models_cmd, translate_cmd

    parser = argparse.ArgumentParser(prog="rtt", description="Real-time translation toolkit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    models_cmd.register(sub)
    translate_cmd.register(sub)
    for optional in ("rtt.cli.speech_cmd", "rtt.cli.eval_cmd", "rtt.cli.bench_cmd", "rtt.cli.notebooks_cmd"):
        try:
            module = __import__(optional, fromlist=["register"])
        except ImportError:
            continue
        module.register(sub)
    _plugin_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except RttError as exc:
        print(f"error [{exc.code}]: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
