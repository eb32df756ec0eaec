"""Several listener languages: ``rtt bench targets``.

FLEURS Spanish clips, one after another in real time, through one live session with 1, 2 and 3
target languages (``target_langs``: en, then fr, then de), and the same audio through 2 and 3
separate single-target sessions at once (what a client without ``target_langs`` has to do).
Per arm: endpoint->final p50/p95 per target, and the process CPU seconds the run took (one
shared VAD+ASR stream against one each).  Refinement is off in every arm (it is background work
whose cost scales with the targets either way).  Arms run in alternating order over
``--rounds`` rounds.  Results: ``reports/speech/targets.{json,md}``.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from typing import Any

import numpy as np

from rtt.bench.common import machine, machine_line, percentile, write_json

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "reports" / "speech" / "targets.json"
CLIPS = ("fleurs-es-002", "fleurs-es-004", "fleurs-es-006")
TARGETS = ("en", "fr", "de")
ARMS = (("one session, 1 target", 1, 1), ("one session, 2 targets", 1, 2), ("2 sessions, 1 target each", 2, 2),
        ("one session, 3 targets", 1, 3), ("3 sessions, 1 target each", 3, 3))


def _audio(data: Path) -> np.ndarray:
    from rtt.audio.files import load_audio_file

    gap = np.zeros(16000, dtype=np.float32)
    return np.concatenate([x for c in CLIPS for x in (load_audio_file(data / f"{c}.ogg"), gap)])


async def _arm(components: Any, audio: np.ndarray, sessions: int, targets: int) -> dict[str, Any]:
    from rtt.pipeline import events as ev
    from rtt.pipeline.driver import drive_session
    from rtt.pipeline.session import Session, SessionOptions

    if sessions == 1:
        opened = [Session(components, SessionOptions(source_lang="es", target_langs=TARGETS[:targets],
                                                     refinement=False))]
    else:
        opened = [Session(components, SessionOptions(source_lang="es", target_lang=t, refinement=False))
                  for t in TARGETS[:targets]]
    cpu0 = time.process_time()
    runs = await asyncio.gather(*(drive_session(s, audio, chunk_ms=100, realtime=True, clock=s.now_ms)
                                  for s in opened))
    cpu = time.process_time() - cpu0
    latency: dict[str, list[float]] = {}
    finals = 0
    for run in runs:
        for e in run.events:
            if isinstance(e, ev.FinalTranslation) and "endpoint_to_final" in e.latency_ms:
                latency.setdefault(e.target_lang, []).append(e.latency_ms["endpoint_to_final"])
                finals += 1
    return {"cpu_s": cpu, "finals": finals, "latency": latency}


def run_targets_bench(out: Path = DEFAULT_OUT, rounds: int = 2, config_path: str | None = None) -> dict[str, Any]:
    from rtt.config import load_config
    from rtt.datasets import shared_data_dir
    from rtt.pipeline.components import Components

    config = load_config(config_path)
    components = Components.load(config)
    components.prewarm(asr=True, mt=True)
    audio = _audio(shared_data_dir() / "fleurs")
    asyncio.run(_arm(components, audio[: 16000 * 3], 1, 3))  # warm every direction's engine
    results: dict[str, dict[str, Any]] = {name: {"cpu_s": [], "finals": [], "latency": {}} for name, _, _ in ARMS}
    for r in range(rounds):
        order = ARMS if r % 2 == 0 else tuple(reversed(ARMS))
        for name, sessions, targets in order:
            got = asyncio.run(_arm(components, audio, sessions, targets))
            res = results[name]
            res["cpu_s"].append(round(got["cpu_s"], 2))
            res["finals"].append(got["finals"])
            for t, values in got["latency"].items():
                res["latency"].setdefault(t, []).extend(values)
            print(f"  round {r + 1} {name}: {got['finals']} finals, {got['cpu_s']:.1f} CPU s")
    components.close()
    arms = {}
    for name, sessions, targets in ARMS:
        res = results[name]
        arms[name] = {
            "sessions": sessions, "targets": targets, "cpu_s_per_run": res["cpu_s"],
            "cpu_s_mean": round(float(np.mean(res["cpu_s"])), 2), "finals_per_run": res["finals"],
            "endpoint_to_final_ms": {t: {"p50": round(percentile(v, 50) or 0), "p95": round(percentile(v, 95) or 0),
                                         "n": len(v)} for t, v in res["latency"].items()},
        }
    result = {"benchmark": "targets", "machine": machine(), "clips": list(CLIPS), "rounds": rounds,
              "audio_s": round(len(audio) / 16000, 1), "arms": arms}
    write_json(out, result)
    out.with_suffix(".md").write_text(render_markdown(result), encoding="utf-8")
    return result


def render_markdown(r: dict[str, Any]) -> str:
    lines = [
        "# Several listener languages (`rtt bench targets`)", "",
        f"Generated from `targets.json`; do not edit. {len(r['clips'])} FLEURS Spanish clips ({r['audio_s']} s) in"
        f" real time, {r['rounds']} rounds in alternating order, refinement off. One session with `target_langs`"
        " against separate single-target sessions on the same audio.", "",
        "| arm | CPU s per run | endpoint->final p50 / p95 ms per target |", "|---|---|---|",
    ]
    for name, a in r["arms"].items():
        lat = ", ".join(f"{t} {v['p50']} / {v['p95']}" for t, v in a["endpoint_to_final_ms"].items())
        lines.append(f"| {name} | {a['cpu_s_mean']:.1f} ({', '.join(map(str, a['cpu_s_per_run']))}) | {lat} |")
    lines += ["", machine_line(r["machine"])]
    return "\n".join(lines) + "\n"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("targets", help="one session with 1-3 target languages vs separate sessions (cost, latency)")
    p.add_argument("--config")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.set_defaults(func=lambda a: (run_targets_bench(a.out, a.rounds, a.config), print(f"wrote {a.out}"), 0)[2])
