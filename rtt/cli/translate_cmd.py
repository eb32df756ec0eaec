"""``rtt translate``: one sentence, a file of segments, or a simulated live stream."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from rtt.errors import InvalidInput

if TYPE_CHECKING:
    from rtt.translator import Translator


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("translate", help="translate text (sentence, file, or simulated stream)")
    p.add_argument("text", nargs="?", help="text to translate")
    p.add_argument("--from", dest="source", required=True, help="source language (or auto)")
    p.add_argument("--to", dest="target", required=True, help="target language")
    p.add_argument("--input", help="file with one segment per line ('-' = stdin)")
    p.add_argument("--config", help="rtt config YAML (default: the packaged default)")
    p.add_argument("--tier", help="fast | accurate | rule | any tier in the config")
    p.add_argument("--policy", help="wait-K, local-agreement-N, full-sentence (with --stream)")
    p.add_argument("--stabilization", choices=["fast", "balanced", "aggressive"])
    p.add_argument("--stream", action="store_true", help="feed words one by one and show partials")
    p.add_argument("--formality", choices=["default", "formal", "informal"])
    p.add_argument("--glossary", help='JSON object, e.g. \'{"Guten Morgen": "Good morning"}\', or @file.json')
    p.add_argument("--no-punctuation", action="store_true")
    p.add_argument("--mask-pii", action="store_true")
    p.add_argument("--mask-profanity", action="store_true")
    p.set_defaults(func=run)


def _read_lines(path: str) -> list[str]:
    raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InvalidInput(f"{path}: invalid UTF-8 on line {line}", code="INVALID_UTF8", line=line) from exc
    return text.splitlines()


def _glossary(spec: str | None):  # type: ignore[no-untyped-def]
    if not spec:
        return None
    import json

    from rtt.text.glossary import Glossary

    raw = Path(spec[1:]).read_text(encoding="utf-8") if spec.startswith("@") else spec
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"--glossary is not valid JSON: {exc.msg}", code="INVALID_GLOSSARY") from exc
    return Glossary.from_json(data)


def run(args: argparse.Namespace) -> int:
    # Imported here so that `rtt --help` and unrelated commands stay fast.
    from rtt.config import load_config
    from rtt.translator import Translator, validate_text

    config = load_config(args.config)
    if args.input is None and args.text is None:
        raise InvalidInput("give the text to translate, or --input FILE", code="EMPTY_TEXT")
    if args.input is not None and args.text is not None:
        raise InvalidInput("give either text or --input, not both")
    glossary = _glossary(args.glossary)
    common = dict(
        tier=args.tier,
        glossary=glossary,
        formality=args.formality,
        punctuation=False if args.no_punctuation else None,
    )
    translator = Translator(config)
    try:
        if args.input is not None:
            return _file(translator, args, common)
        validate_text(args.text, config.text.max_chars)
        if args.stream:
            return _stream(translator, args)
        out = translator.translate(
            [args.text], args.source, args.target, mask_pii=args.mask_pii or None,
            mask_profanity=args.mask_profanity or None, **common,  # type: ignore[arg-type]
        )[0]
        print(out.text)
        if out.detected_lang:
            print(f"(detected {out.detected_lang})", file=sys.stderr)
        return 0
    finally:
        translator.close()


def _file(translator: Translator, args: argparse.Namespace, common: dict) -> int:  # type: ignore[type-arg]
    lines = _read_lines(args.input)
    limit = translator.config.text.max_chars
    for i, line in enumerate(lines, 1):
        if len(line) > limit:
            raise InvalidInput(f"line {i} has {len(line)} characters; the limit is {limit}", code="TEXT_TOO_LONG", line=i)
    batch = translator.config.text.max_batch
    todo = [(i, line) for i, line in enumerate(lines) if line.strip()]
    results = [""] * len(lines)
    with tqdm(total=len(todo), desc="translating", unit="seg", file=sys.stderr, disable=len(todo) < 2) as bar:
        for start in range(0, len(todo), batch):
            chunk = todo[start:start + batch]
            outs = translator.translate([t for _, t in chunk], args.source, args.target, **common)
            for (i, _), o in zip(chunk, outs, strict=True):
                results[i] = o.text
            bar.update(len(chunk))
    sys.stdout.write("".join(r + "\n" for r in results))
    return 0


def _stream(translator: Translator, args: argparse.Namespace) -> int:
    from rtt.metrics.latency import average_lagging

    sim = translator.simultaneous(
        args.source, args.target, policy=args.policy, stabilization=args.stabilization,
        tier=args.tier, glossary=_glossary(args.glossary), formality=args.formality,
    )
    words = args.text.split()
    t0 = time.perf_counter()
    for i, w in enumerate(words):
        last = i == len(words) - 1
        upd = sim.push(w, source_finished=last)
        tag = "final  " if upd.finished else "partial"
        tail = f" [{upd.tentative}]" if upd.tentative else ""
        print(f"{tag} src {i + 1:3d}/{len(words)} {upd.cost.wall_ms:7.1f} ms | {upd.committed_text}{tail}")
    emitted = sim.policy.emitted
    lags = " ".join(f"{w.text}({w.source_read})" for w in emitted)
    delays = [w.source_read for w in emitted]
    al = average_lagging(delays, len(words), len(emitted)) if emitted else float("nan")
    print(f"words(source read): {lags}")
    print(f"policy={sim.policy.name} AL={al:.2f} words, total {1000 * (time.perf_counter() - t0):.0f} ms")
    return 0
