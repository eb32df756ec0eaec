"""Batched against unbatched serving, side by side: ``rtt bench serve --compare-batching``.

Two ``rtt serve`` processes run at once from the same config, one with ``mt.batching: true``
and one with ``false`` (the idle one costs no CPU).  Every level runs on both, one after the
other, and which arm goes first alternates from level to level, so a slow spell of the shared
machine does not land on one arm only.  Levels: text sessions of the LLM directions (de-en and
en-de by default) at 1/4/16/64, typed 0.25 s a word as in ``rtt bench serve``; speech de-en at
1/2/4/8 real-time sessions.

Per level and arm: finals, lost, errors, client and server p50/p95, finals per second over the
level's wall time, MT steps and steps coalesced (words that waited for a running step and were
read by the next one), load step-downs and refinements skipped for load (from ``/metrics``,
diffed around the level), and the server's RSS after the level.  Results go to
``reports/serve/batching.json`` and a generated ``batching.md``.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rtt.audio.pcm import PIPELINE_RATE
from rtt.bench.common import machine, write_json
from rtt.bench.serve import ServerProcess, _ms, _pcm16k, rss_mb, speech_session, summarize, text_session
from rtt.config import DEFAULT_CONFIG_PATH
from rtt.datasets import fleurs_clips, paired

DEFAULT_OUT = Path("reports/serve/batching.json")
RAY_OUT = Path("reports/serve/ray.json")
ARMS = ("batched", "unbatched")
# Counters read from /metrics around each level (sums over their label sets).
COUNTERS = {
    "mt_steps": "rtt_mt_steps_total",
    "steps_coalesced": "rtt_mt_steps_coalesced_total",
    "step_downs": "rtt_load_step_downs_total",
    "refinements_skipped_load": 'rtt_revisions_total{reason="load"',
}


def scrape(url: str) -> dict[str, float]:
    """The counters above from a server's /metrics (0 where one is absent)."""
    import httpx

    try:
        text = httpx.get(f"{url}/metrics", timeout=10).text
    except httpx.HTTPError:
        return {}
    return parse_counters(text)


def parse_counters(text: str) -> dict[str, float]:
    """The COUNTERS of a Prometheus text exposition, each summed over its label sets."""
    out = dict.fromkeys(COUNTERS, 0.0)
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        for key, prefix in COUNTERS.items():
            if line.startswith(prefix) and (prefix.endswith('"') or line[len(prefix)] in " {"):
                out[key] += float(line.rsplit(" ", 1)[1])
    return out


async def _level(url: str, kind: str, n: int, direction: tuple[str, str], sentences: list[str], audio: list[bytes],
                 sentences_per_session: int, word_delay_s: float, timeout_s: float) -> dict[str, Any]:
    t0 = time.perf_counter()
    if kind == "text":
        jobs = [text_session(url, [sentences[(i * sentences_per_session + j) % len(sentences)]
                                   for j in range(sentences_per_session)], word_delay_s, timeout_s, direction)
                for i in range(n)]
    else:
        jobs = [speech_session(url, audio[i % len(audio)], timeout_s, direction) for i in range(n)]
    results = list(await asyncio.gather(*jobs))
    return summarize(kind, n, results, time.perf_counter() - t0, "-".join(direction))


def _plan(text_directions: Sequence[tuple[str, str]], text_levels: Sequence[int],
          speech_direction: tuple[str, str] | None, speech_levels: Sequence[int]) -> list[tuple[str, tuple[str, str], int]]:
    plan = [("text", d, n) for d in text_directions for n in text_levels]
    if speech_direction is not None:
        plan += [("speech", speech_direction, n) for n in speech_levels]
    return plan


def run_compare(
    out_path: Path | str = DEFAULT_OUT,
    config_path: Path | str | None = None,
    *args: Any,
    arms: dict[str, ServerProcess] | None = None,
    benchmark: str = "serve-batching",
    title: str = "Batched vs unbatched serving (`rtt bench serve --compare-batching`)",
    **kwargs: Any,
) -> dict[str, Any]:
    """Two server arms side by side on the same levels (default: ``mt.batching`` on and off)."""
    config = Path(config_path) if config_path else None
    servers = arms or {"batched": ServerProcess(config, {"batching": True}),
                       "unbatched": ServerProcess(config, {"batching": False})}
    return _compare(Path(out_path), config_path, servers, benchmark, title, *args, **kwargs)


def run_ray_compare(out_path: Path | str = RAY_OUT, config_path: Path | str | None = None, *args: Any,
                    **kwargs: Any) -> dict[str, Any]:
    """``rtt bench serve --ray``: the same levels through ``make serve``'s single process and
    through Ray Serve (one ingress replica with the same models in it, so the difference is the
    proxy hop and Ray's own processes)."""
    config = Path(config_path) if config_path else None
    servers = {"embedded": ServerProcess(config),
               "ray": ServerProcess(config, ray={"ingress_replicas": 1, "ingress_num_cpus": 0.5})}
    return _compare(Path(out_path), config_path, servers, "serve-ray",
                    "Embedded vs Ray Serve (`rtt bench serve --ray`)", *args, **kwargs)


def _compare(
    out_path: Path,
    config_path: Path | str | None,
    servers: dict[str, ServerProcess],
    benchmark: str,
    title: str,
    text_levels: Sequence[int] = (1, 4, 16, 64),
    speech_levels: Sequence[int] = (1, 2, 4, 8),
    text_directions: Sequence[tuple[str, str]] = (("de", "en"), ("en", "de")),
    speech_direction: tuple[str, str] | None = ("de", "en"),
    sentences_per_session: int = 2,
    word_delay_s: float = 0.25,
    timeout_s: float = 600.0,
) -> dict[str, Any]:
    arm_names = tuple(servers)
    report: dict[str, Any] = {
        "benchmark": benchmark,
        "title": title,
        "arms": list(arm_names),
        "machine": machine(),
        "load_average_before": os.getloadavg(),
        "config": str(config_path or DEFAULT_CONFIG_PATH),
        "settings": {"sentences_per_session": sentences_per_session, "word_delay_s": word_delay_s,
                     "text_directions": ["-".join(d) for d in text_directions],
                     "speech_direction": "-".join(speech_direction) if speech_direction else None,
                     "text_data": "Tatoeba (4-12 words)", "speech_data": "FLEURS clips of the source language, real time",
                     "transport": "WebSocket, loopback", "order": "arms alternate which goes first, level by level"},
        "levels": [],
    }
    plan = _plan(text_directions, text_levels, speech_direction, speech_levels)
    data: dict[tuple[str, str], list[str]] = {}
    for _kind, d, _n in plan:
        if d not in data:
            pool = paired("tatoeba", *d).sources
            data[d] = [s for s in pool if 4 <= len(s.split()) <= 12]
    audio = ([_pcm16k(c.audio) + b"\x00\x00" * PIPELINE_RATE for c in fleurs_clips(speech_direction[0])]
             if speech_direction is not None and speech_levels else [])
    try:
        for arm, server in servers.items():
            t0 = time.perf_counter()
            server.start()
            report[f"{arm}_server_start_s"] = round(time.perf_counter() - t0, 1)
        for i, (kind, d, n) in enumerate(plan):
            order = arm_names if i % 2 == 0 else arm_names[::-1]
            for arm in order:
                server = servers[arm]
                before = scrape(server.url)
                row = asyncio.run(_level(server.url, kind, n, d, data[d], audio, sentences_per_session,
                                         word_delay_s, timeout_s))
                after = scrape(server.url)
                row["arm"] = arm
                row["first"] = arm == order[0]
                row["finals_per_s"] = round(row["finals_received"] / row["wall_s"], 2) if row["wall_s"] else None
                row.update({k: after.get(k, 0.0) - before.get(k, 0.0) for k in COUNTERS})
                assert server.proc is not None
                # The Ray arm's driver holds no model: its RSS says nothing of the replicas.
                row["rss_mb"] = rss_mb(server.proc.pid).get("VmRSS") if server.ray is None else None
                report["levels"].append(row)
                _progress(row)
        for arm, server in servers.items():
            report[f"{arm}_alive_after"] = server.proc is not None and server.proc.poll() is None
    finally:
        for arm, server in servers.items():
            report[f"{arm}_exit_code"] = server.stop()
    report["load_average_after"] = os.getloadavg()
    report["nothing_lost"] = all(row["lost"] == 0 for row in report["levels"])
    write_json(out_path, report)
    out_path.with_suffix(".md").write_text(markdown(report), encoding="utf-8")
    return report


def _progress(row: dict[str, Any]) -> None:
    lat, srv = row["client_final_latency_ms"], row["server_latency_ms"]
    print(f"{row['direction']} {row['kind']:6s} x{row['concurrency']:<3d} {row['arm']:9s} lost {row['lost']} errors"
          f" {row['errors']} client p50/p95 {_ms(lat['p50'])}/{_ms(lat['p95'])} ms, server p50/p95"
          f" {_ms(srv['p50'])}/{_ms(srv['p95'])} ms, {row['finals_per_s']} finals/s, RSS {row['rss_mb']} MB",
          flush=True)


def markdown(report: dict[str, Any]) -> str:
    """Both arms of each level on adjacent rows, and the ratio the targets are stated in."""
    s = report["settings"]
    arms = tuple(report.get("arms") or ARMS)
    a, b = arms
    lines = [
        f"# {report.get('title') or 'Batched vs unbatched serving (`rtt bench serve --compare-batching`)'}",
        "",
        f"Config `{report.get('config')}`, arms {a} and {b}, two servers side by side;"
        f" {report['machine'].get('cpu_count')} CPUs, run {report['machine'].get('date')} (load average before"
        f" {report['load_average_before'][0]:.2f}). {s['transport']}; text: {s['text_data']},"
        f" {s['sentences_per_session']} sentences a session typed {s['word_delay_s']} s a word; speech:"
        f" {s['speech_data']}. {s['order'].capitalize()} (`first`).",
        "",
        "Client latency: text, last word sent -> final received; speech, last audio frame sent -> last final"
        " (the clips end in a second of silence sent in real time, so a final often beats the last frame:"
        " 0-1 ms; the server column is the one to read)."
        " Server latency: text `input_to_final`, speech `endpoint_to_final`. Coalesced: words read by a later"
        " step than the one they arrived for. RSS: the arm's server after the level.",
        "",
        "| direction | kind | sessions | arm | first | finals | lost | errors | client p50 ms | client p95 ms |"
        " server p50 ms | server p95 ms | finals/s | MT steps | coalesced | step-downs | refine skipped (load) |"
        " RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["levels"]:
        c, sv = r["client_final_latency_ms"], r["server_latency_ms"]
        lines.append(
            f"| {r['direction']} | {r['kind']} | {r['concurrency']} | {r['arm']} | {'yes' if r['first'] else ''} |"
            f" {r['finals_received']}/{r['finals_expected']} | {r['lost']} | {r['errors']} | {_ms(c['p50'])} |"
            f" {_ms(c['p95'])} | {_ms(sv['p50'])} | {_ms(sv['p95'])} | {r['finals_per_s']} |"
            f" {r['mt_steps']:.0f} | {r['steps_coalesced']:.0f} | {r['step_downs']:.0f} |"
            f" {r['refinements_skipped_load']:.0f} | {r['rss_mb']} |"
        )
    lines += ["", f"{a} / {b}, server p50 (below 1: {a} is faster):", ""]
    pairs: dict[tuple[str, str, int], dict[str, Any]] = {}
    for r in report["levels"]:
        pairs.setdefault((r["direction"], r["kind"], r["concurrency"]), {})[r["arm"]] = r
    lines += ["| direction | kind | sessions | server p50 ratio | server p95 ratio | client p50 ratio | client p50 ms |"
              " finals/s ratio |", "|---|---|---|---|---|---|---|---|"]
    for (d, kind, n), arms_of in pairs.items():
        if set(arms_of) != set(arms):
            continue
        x, y = arms_of[a], arms_of[b]
        lines.append(f"| {d} | {kind} | {n} | {_ratio(x['server_latency_ms']['p50'], y['server_latency_ms']['p50'])} |"
                     f" {_ratio(x['server_latency_ms']['p95'], y['server_latency_ms']['p95'])} |"
                     f" {_ratio(x['client_final_latency_ms']['p50'], y['client_final_latency_ms']['p50'])} |"
                     f" {_ms(x['client_final_latency_ms']['p50'])} / {_ms(y['client_final_latency_ms']['p50'])} |"
                     f" {_ratio(x['finals_per_s'], y['finals_per_s'])} |")
    lines += ["", f"Alive after the run: {a} {report.get(f'{a}_alive_after')}, {b}"
              f" {report.get(f'{b}_alive_after')}; nothing lost: {report.get('nothing_lost')}.", ""]
    return "\n".join(lines)


def _ratio(a: float | None, b: float | None) -> str:
    return "–" if not a or not b else f"{a / b:.2f}"
