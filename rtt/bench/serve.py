"""Load benchmark of the service on loopback: ``rtt bench serve``.

Starts ``rtt serve`` as its own process (real models, the given config) unless ``--url`` points
at a running server, then drives concurrent realtime sessions over WebSocket:

* text sessions (1, 4, 16, 64 at once): each types Tatoeba sentences word by word and waits
  for the final translation of each; latency = last word sent -> final received;
* speech sessions (1, 2, 4 at once): each streams a FLEURS clip in real time; latency is the
  server's ``endpoint_to_final`` (VAD endpoint -> final translation) and, client-side, the last
  audio frame sent -> last final received.

Every level runs once per direction (``--directions``, default es-en and de-en): in the default
config es->en is served by Apertium (milliseconds a step) and de->en by Gemma 270M (an LLM step
of ~130 ms), so the two bound what the CPU sees.

Per level it records sessions sustained (finished every utterance without an error), finals
expected vs received (``lost``), error codes, p50/p95 latency, wall time; and the server's RSS
before and after.  Results go to ``reports/serve/load.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rtt.audio.pcm import PIPELINE_RATE, encode_pcm16le
from rtt.bench.common import machine, percentile, write_json
from rtt.config import DEFAULT_CONFIG_PATH
from rtt.datasets import fleurs_clips, paired

DEFAULT_OUT = Path("reports/serve/load.json")
FRAME_MS = 100


@dataclass
class SessionResult:
    expected: int = 0
    received: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    server_latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def sustained(self) -> bool:
        return not self.errors and self.received == self.expected


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> dict[str, float]:
    out: dict[str, float] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                out[key] = round(int(value.split()[0]) / 1024, 1)
    except OSError:
        pass
    return out


class ServerProcess:
    """``rtt serve`` in a subprocess with limits opened up for the load test."""

    def __init__(self, config_path: Path | None, mt_overrides: dict[str, Any] | None = None,
                 ray: dict[str, Any] | None = None) -> None:
        """``ray``: serve through Ray Serve (``rtt serve --ray``) with these ``serve.ray`` settings."""
        self.ray = ray
        raw = yaml.safe_load((config_path or DEFAULT_CONFIG_PATH).read_text())
        if mt_overrides:  # one arm of a comparison, e.g. {"batching": False}
            raw["mt"] = {**raw.get("mt", {}), **mt_overrides}
        serve = dict(raw.get("serve") or {})
        serve.update({
            "limits": {"concurrent_sessions": 512, "requests_per_minute": 1_000_000,
                       "audio_seconds_per_minute": 1_000_000.0, "max_sessions_total": 1024},
            "timeouts": {"idle_s": 900, "shutdown_grace_s": 300, "finish_s": 600},
            "api_keys": [],
            "prewarm": True,
        })
        if ray is not None:
            serve["ray"] = ray
        raw["serve"] = serve
        self._tmp = tempfile.TemporaryDirectory()
        self.config = Path(self._tmp.name) / "bench.yaml"
        self.config.write_text(yaml.safe_dump(raw))
        self.port = _free_port()
        self.log_path = Path(self._tmp.name) / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 900) -> None:
        import httpx

        log = self.log_path.open("wb")
        env = {k: v for k, v in os.environ.items() if k != "RTT_API_KEYS"}
        cmd = [sys.executable, "-m", "rtt.cli.main", "serve", "--config", str(self.config), "--port", str(self.port)]
        if self.ray is not None:
            cmd.append("--ray")
            env.setdefault("RAY_AUTH_MODE", "disabled")  # its own throwaway cluster on loopback
        else:
            cmd += ["--grpc-port", str(_free_port()), "--log-level", "warning"]
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout_s
        while True:
            if self.proc.poll() is not None:
                tail = self.log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"rtt serve exited early:\n{tail}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("rtt serve did not become ready")
            time.sleep(0.5)

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        # The Ray driver shuts its local cluster down on an interrupt (a TERM would orphan it).
        self.proc.send_signal(signal.SIGINT if self.ray is not None else signal.SIGTERM)
        try:
            return self.proc.wait(120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()
        finally:
            self._tmp.cleanup()


async def text_session(url: str, sentences: Sequence[str], word_delay_s: float, timeout_s: float,
                       direction: tuple[str, str] = ("es", "en")) -> SessionResult:
    from rtt.client import RttClient

    result = SessionResult(expected=len(sentences))
    try:
        async with RttClient(url, timeout_s=timeout_s) as client, \
                client.realtime(source_lang=direction[0], target_lang=direction[1]) as rt:
            for sentence in sentences:
                words = sentence.split()
                for w in words[:-1]:
                    await rt.send_text(w)
                    await asyncio.sleep(word_delay_s)
                t0 = time.perf_counter()
                await rt.send_text(words[-1], final=True)
                final = await rt.wait_for("final_translation", timeout_s=timeout_s)
                result.latencies_ms.append((time.perf_counter() - t0) * 1000)
                if "input_to_final" in final.latency_ms:
                    result.server_latencies_ms.append(final.latency_ms["input_to_final"])
            await rt.end(timeout_s=timeout_s)
            result.received = len({m.utterance_id for m in rt.received if m.type == "final_translation"})
            result.errors += [m.code for m in rt.received if m.type == "error"]
    except Exception as exc:  # a crash or timeout counts against the level, the run goes on
        result.errors.append(type(exc).__name__)
    return result


def _pcm16k(path: Path) -> bytes:
    from rtt.audio.files import load_audio_file

    return encode_pcm16le(load_audio_file(path))


async def speech_session(url: str, pcm: bytes, timeout_s: float,
                         direction: tuple[str, str] = ("es", "en")) -> SessionResult:
    from rtt.client import RttClient

    result = SessionResult(expected=1)
    frame = PIPELINE_RATE * 2 * FRAME_MS // 1000
    try:
        async with RttClient(url, timeout_s=timeout_s) as client, \
                client.realtime(source_lang=direction[0], target_lang=direction[1]) as rt:
            t_start = time.perf_counter()
            for i, off in enumerate(range(0, len(pcm), frame)):
                await rt.send_audio(pcm[off:off + frame], binary=True)
                due = t_start + (i + 1) * FRAME_MS / 1000  # real time, like a microphone
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
            t_last = time.perf_counter()
            await rt.end(timeout_s=timeout_s)
            finals = [(m, at) for m, at in zip(rt.received, rt.arrivals, strict=True) if m.type == "final_translation"]
            result.received = min(1, len(finals))  # one spoken sentence; the VAD may split it
            if finals:
                # The trailing second of silence is sent in real time too, so a final can beat it.
                result.latencies_ms.append(max(0.0, (finals[-1][1] - t_last) * 1000))
                finals_msgs = [m for m, _ in finals]
                result.server_latencies_ms += [m.latency_ms["endpoint_to_final"] for m in finals_msgs
                                               if "endpoint_to_final" in m.latency_ms]
            result.errors += [m.code for m in rt.received if m.type == "error"]
    except Exception as exc:
        result.errors.append(type(exc).__name__)
    return result


def summarize(kind: str, concurrency: int, results: list[SessionResult], wall_s: float,
              direction: str = "es-en") -> dict[str, Any]:
    lat = [v for r in results for v in r.latencies_ms]
    server = [v for r in results for v in r.server_latencies_ms]
    expected = sum(r.expected for r in results)
    received = sum(r.received for r in results)
    return {
        "kind": kind,
        "direction": direction,
        "concurrency": concurrency,
        "sessions": len(results),
        "sessions_sustained": sum(r.sustained for r in results),
        "finals_expected": expected,
        "finals_received": received,
        "lost": max(0, expected - received),
        "errors": sum(len(r.errors) for r in results),
        "error_codes": dict(Counter(e for r in results for e in r.errors)),
        "client_final_latency_ms": {"p50": percentile(lat, 50), "p95": percentile(lat, 95),
                                    "max": max(lat) if lat else None},
        "server_latency_ms": {"p50": percentile(server, 50), "p95": percentile(server, 95)},
        "wall_s": round(wall_s, 2),
    }


async def _run_levels(url: str, text_levels: Sequence[int], speech_levels: Sequence[int], sentences_per_session: int,
                      word_delay_s: float, timeout_s: float, progress: Any,
                      directions: Sequence[tuple[str, str]] = (("es", "en"),)) -> list[dict[str, Any]]:
    rows = []
    for src, tgt in directions:
        name = f"{src}-{tgt}"
        data = paired("tatoeba", src, tgt)
        pool = [s for s in data.sources if 4 <= len(s.split()) <= 12]
        for n in text_levels:
            t0 = time.perf_counter()
            jobs = [text_session(url, [pool[(i * sentences_per_session + j) % len(pool)]
                                       for j in range(sentences_per_session)], word_delay_s, timeout_s, (src, tgt))
                    for i in range(n)]
            row = summarize("text", n, list(await asyncio.gather(*jobs)), time.perf_counter() - t0, name)
            progress(row)
            rows.append(row)
        if not speech_levels:
            continue
        audio = [_pcm16k(c.audio) + b"\x00\x00" * PIPELINE_RATE for c in fleurs_clips(src)]  # 1 s of trailing silence
        for n in speech_levels:
            t0 = time.perf_counter()
            jobs = [speech_session(url, audio[i % len(audio)], timeout_s, (src, tgt)) for i in range(n)]
            row = summarize("speech", n, list(await asyncio.gather(*jobs)), time.perf_counter() - t0, name)
            progress(row)
            rows.append(row)
    return rows


def run_serve_bench(
    out_path: Path | str = DEFAULT_OUT,
    config_path: Path | str | None = None,
    text_levels: Sequence[int] = (1, 4, 16, 64),
    speech_levels: Sequence[int] = (1, 2, 4),
    sentences_per_session: int = 2,
    word_delay_s: float = 0.25,
    timeout_s: float = 600.0,
    url: str | None = None,
    directions: Sequence[tuple[str, str]] = (("es", "en"), ("de", "en")),
) -> dict[str, Any]:
    out_path = Path(out_path)
    server = None if url else ServerProcess(Path(config_path) if config_path else None)
    report: dict[str, Any] = {
        "benchmark": "serve-load",
        "machine": machine(),
        "load_average_before": os.getloadavg(),
        "config": str(config_path or DEFAULT_CONFIG_PATH),
        "settings": {"sentences_per_session": sentences_per_session, "word_delay_s": word_delay_s,
                     "directions": [f"{s}-{t}" for s, t in directions],
                     "text_data": "Tatoeba (4-12 words)", "speech_data": "FLEURS clips of the source language, real time",
                     "transport": "WebSocket, loopback"},
    }

    def progress(row: dict[str, Any]) -> None:
        lat, srv = row["client_final_latency_ms"], row["server_latency_ms"]
        print(f"{row['direction']} {row['kind']:6s} x{row['concurrency']:<3d} sustained {row['sessions_sustained']}/"
              f"{row['sessions']} lost {row['lost']} errors {row['errors']} client p50/p95 {_ms(lat['p50'])}/"
              f"{_ms(lat['p95'])} ms, server p50/p95 {_ms(srv['p50'])}/{_ms(srv['p95'])} ms", flush=True)

    try:
        if server is not None:
            t0 = time.perf_counter()
            server.start()
            report["server_start_s"] = round(time.perf_counter() - t0, 1)
            assert server.proc is not None
            report["memory_before_mb"] = rss_mb(server.proc.pid)
        target = url or (server.url if server else "")
        report["levels"] = asyncio.run(_run_levels(target, text_levels, speech_levels, sentences_per_session,
                                                   word_delay_s, timeout_s, progress, directions))
        if server is not None and server.proc is not None:
            report["memory_after_mb"] = rss_mb(server.proc.pid)
            report["server_alive_after"] = server.proc.poll() is None
    finally:
        if server is not None:
            report["server_exit_code"] = server.stop()
    report["load_average_after"] = os.getloadavg()
    report["nothing_lost"] = all(row["lost"] == 0 for row in report.get("levels", []))
    write_json(out_path, report)
    out_path.with_suffix(".md").write_text(markdown(report), encoding="utf-8")
    return report


def markdown(report: dict[str, Any]) -> str:
    """The load table a reader wants, written beside the JSON by the same run."""
    mem_b, mem_a = report.get("memory_before_mb", {}), report.get("memory_after_mb", {})
    lines = [
        "# Service load (`rtt bench serve`)",
        "",
        f"Config `{report.get('config')}`, {report['machine'].get('cpu_count')} CPUs, run {report['machine'].get('date')}"
        f" (load average before {report['load_average_before'][0]:.2f}). {report['settings'].get('transport')};"
        f" text: {report['settings'].get('text_data')}, {report['settings'].get('sentences_per_session')} sentences"
        f" a session typed {report['settings'].get('word_delay_s')} s a word; speech:"
        f" {report['settings'].get('speech_data')}.",
        "",
        "Client latency: text, last word sent -> final received; speech, last audio frame sent -> last final"
        " (0 when the final beats the trailing second of silence). Server latency: text `input_to_final`,"
        " speech `endpoint_to_final` (VAD endpoint -> final translation).",
        "",
        "| direction | kind | sessions | sustained | finals | lost | errors | client p50 ms | client p95 ms |"
        " server p50 ms | server p95 ms | wall s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report.get("levels", []):
        c, sv = r["client_final_latency_ms"], r["server_latency_ms"]
        lines.append(
            f"| {r.get('direction', 'es-en')} | {r['kind']} | {r['concurrency']} | {r['sessions_sustained']} |"
            f" {r['finals_received']}/{r['finals_expected']} | {r['lost']} | {r['errors']} | {_ms(c['p50'])} |"
            f" {_ms(c['p95'])} | {_ms(sv['p50'])} | {_ms(sv['p95'])} | {r['wall_s']} |"
        )
    lines += [
        "",
        f"Server RSS before {mem_b.get('VmRSS', '–')} MB, after {mem_a.get('VmRSS', '–')} MB (peak"
        f" {mem_a.get('VmHWM', '–')} MB); alive after the run: {report.get('server_alive_after')}; nothing lost:"
        f" {report.get('nothing_lost')}.",
        "",
    ]
    return "\n".join(lines)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("serve", help="load test of the service: concurrent text and speech sessions (loopback)")
    p.add_argument("--config", help="rtt config to serve (default: the packaged default)")
    p.add_argument("--url", help="bench a running server instead of starting one")
    p.add_argument("--text-levels", default="1,4,16,64")
    p.add_argument("--speech-levels", default=None, help="default 1,2,4 (--compare-batching: 1,2,4,8)")
    p.add_argument("--sentences", type=int, default=2, help="sentences per text session")
    p.add_argument("--word-delay", type=float, default=0.25, help="seconds between typed words")
    p.add_argument("--directions", default=None,
                   help="comma-separated source-target pairs; every level runs once per direction (default es-en,de-en;"
                        " --compare-batching: de-en,en-de, speech in the first)")
    p.add_argument("--out", type=Path, default=None, help=f"default {DEFAULT_OUT} (soak: reports/serve/soak.json)")
    p.add_argument("--soak", type=float, metavar="MINUTES",
                   help="instead of the load levels: a soak with random abrupt drops and resumes (rtt/bench/soak.py)")
    p.add_argument("--soak-text", type=int, default=64, help="text sessions of the soak")
    p.add_argument("--soak-speech", type=int, default=4, help="speech sessions of the soak")
    p.add_argument("--ray", action="store_true",
                   help="instead of the load levels: the same levels through make serve's process and through"
                        " Ray Serve side by side, arms alternating (reports/serve/ray.json)")
    p.add_argument("--compare-batching", action="store_true",
                   help="instead of the load levels: mt.batching on and off side by side (rtt/bench/batching.py);"
                        " --text-levels, --speech-levels and --directions apply (default text de-en,en-de"
                        " at 1,4,16,64, speech de-en at 1,2,4,8)")
    p.set_defaults(func=_cli)


def _ints(value: str) -> list[int]:
    return [int(v) for v in value.split(",") if v.strip()]


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def _directions(value: str) -> list[tuple[str, str]]:
    out = []
    for item in value.split(","):
        src, sep, tgt = item.strip().partition("-")
        if not sep or not src or not tgt:
            raise SystemExit(f"rtt bench serve: error: --directions wants pairs like es-en, got {item!r}")
        out.append((src, tgt))
    return out


def _cli(args: argparse.Namespace) -> int:
    if args.soak is not None:
        from rtt.bench.soak import DEFAULT_OUT as SOAK_OUT
        from rtt.bench.soak import run_soak

        out = args.out or SOAK_OUT
        soak = run_soak(args.soak, out, args.config, args.soak_text, args.soak_speech, url=args.url)
        print(f"wrote {out}; nothing lost or duplicated: {soak['nothing_lost']}")
        return 0 if soak["nothing_lost"] else 1
    if args.ray:
        from rtt.bench.batching import RAY_OUT, run_ray_compare

        out = args.out or RAY_OUT
        dirs = _directions(args.directions or "es-en,de-en")
        compared = run_ray_compare(out, args.config, _ints(args.text_levels),
                                   _ints("1,2,4" if args.speech_levels is None else args.speech_levels),
                                   dirs, dirs[-1], args.sentences, args.word_delay)
        print(f"wrote {out}; nothing lost: {compared['nothing_lost']}")
        return 0 if compared["nothing_lost"] else 1
    if args.compare_batching:
        from rtt.bench.batching import DEFAULT_OUT as BATCHING_OUT
        from rtt.bench.batching import run_compare

        if args.url:
            raise SystemExit("rtt bench serve: error: --compare-batching starts its own two servers (no --url)")
        out = args.out or BATCHING_OUT
        dirs = _directions(args.directions or "de-en,en-de")
        compared = run_compare(out, args.config, _ints(args.text_levels), _ints("1,2,4,8" if args.speech_levels is None else args.speech_levels),
                               dirs, dirs[0], args.sentences, args.word_delay)
        print(f"wrote {out}; nothing lost: {compared['nothing_lost']}")
        return 0 if compared["nothing_lost"] else 1
    args.out = args.out or DEFAULT_OUT
    report = run_serve_bench(args.out, args.config, _ints(args.text_levels), _ints("1,2,4" if args.speech_levels is None else args.speech_levels),
                             args.sentences, args.word_delay, url=args.url,
                             directions=_directions(args.directions or "es-en,de-en"))
    print(f"wrote {args.out}; nothing lost: {report['nothing_lost']}")
    return 0 if report["nothing_lost"] else 1
