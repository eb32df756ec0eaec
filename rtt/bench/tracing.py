"""What tracing costs: ``rtt bench tracing``.

Two arms on the same speech sessions (FLEURS clips through a live :class:`~rtt.pipeline.session.
Session` with the real default models, streamed in real time as a microphone would, refinement
off so each run does the same work):

* **off**: no SDK, the product's default (``OTEL_TRACES_EXPORTER`` unset): every span call in
  :mod:`rtt.tracing` returns a non-recording span;
* **on**: the SDK's tracer provider with a batch span processor and an exporter that only counts,
  i.e. what a deployment pays minus its network.

The OpenTelemetry tracer provider can be set once per process, so each arm runs in its own
process; the arms alternate (off, on, on, off, ...) and each process loads the models before its
clock starts.  Real time fixes the wall clock, so the cost shows as CPU seconds the process used
over the sessions; also endpoint->final p50 and the spans recorded.
A microbenchmark in this process gives the price of one span either way, which, times the spans
per utterance, is the overhead per utterance that the end-to-end runs are too noisy to resolve.
Results: ``reports/ops/tracing.{json,md}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rtt.bench.common import machine, machine_line, percentile, write_json

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "reports" / "ops" / "tracing.json"
ARMS = ("off", "on")


def run_arm(arm: str, per_lang: int, config_path: str | None) -> dict[str, Any]:
    """One arm's sessions in this process (``python -m rtt.bench.tracing --arm``)."""
    counter = _install_sdk() if arm == "on" else None
    from rtt.audio.files import load_audio_file
    from rtt.bench.speech import _stream_clip, fleurs_clips
    from rtt.config import load_config
    from rtt.pipeline import events as ev
    from rtt.pipeline.components import Components

    components = Components.load(load_config(config_path))
    components.prewarm(asr=True, mt=True)
    clips = fleurs_clips(per_lang)
    audio = {c.clip_id: load_audio_file(c.audio) for c in clips}

    async def main() -> tuple[float, list[float], int]:
        latencies: list[float] = []
        utterances = 0
        t0 = _cpu_s()
        for clip in clips:
            out = await _stream_clip(components, clip, audio[clip.clip_id], realtime=True,
                                     stabilization=components.config.policy.stabilization, refine=False)
            for e in out["run"].events:
                if isinstance(e, ev.FinalTranslation):
                    utterances += 1
                    if "endpoint_to_final" in e.latency_ms:
                        latencies.append(e.latency_ms["endpoint_to_final"])
        return _cpu_s() - t0, latencies, utterances

    try:
        cpu, latencies, utterances = asyncio.run(main())
    finally:
        components.close()
    spans = counter.flush() if counter is not None else 0
    return {"arm": arm, "cpu_s": round(cpu, 3), "clips": len(clips), "utterances": utterances,
            "endpoint_to_final_p50_ms": percentile(latencies, 50), "spans": spans}


def _cpu_s() -> float:
    """CPU seconds of this process (every thread: Whisper's, llama.cpp's, the SDK's exporter)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _CountingExporter:
    """Takes the SDK's span batches and keeps only their number (no IO to measure)."""

    def __init__(self) -> None:
        self.count = 0

    def export(self, spans: Any) -> Any:
        from opentelemetry.sdk.trace.export import SpanExportResult

        self.count += len(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class _SdkCounter:
    def __init__(self, provider: Any, exporter: _CountingExporter) -> None:
        self.provider, self.exporter = provider, exporter

    def flush(self) -> int:
        self.provider.force_flush()
        return self.exporter.count


def _install_sdk() -> _SdkCounter:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    exporter = _CountingExporter()
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter))  # type: ignore[arg-type]
    trace.set_tracer_provider(provider)
    return _SdkCounter(provider, exporter)


def span_cost_ns(n: int = 20000) -> dict[str, float]:
    """Nanoseconds per stage-step span (``rtt.tracing.span`` with the attributes a step sets),
    without an SDK and then with one.  Installs the SDK provider: call it last in a process."""
    from rtt import tracing

    def loop() -> float:
        t0 = time.perf_counter_ns()
        for i in range(n):
            with tracing.span("rtt.mt.step", session_id="s", utterance_id=i, engine="gemma", tier="fast") as s:
                tracing.set_attributes(s, words=3)
        return (time.perf_counter_ns() - t0) / n

    off = min(loop() for _ in range(3))
    counter = _install_sdk()
    on = min(loop() for _ in range(3))
    counter.flush()
    return {"off": round(off, 1), "on": round(on, 1)}


def run_tracing_bench(out: Path, rounds: int = 3, per_lang: int = 1, config_path: str | None = None) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    for r in range(rounds):
        order = ARMS if r % 2 == 0 else tuple(reversed(ARMS))
        for arm in order:
            cmd = [sys.executable, "-m", "rtt.bench.tracing", "--arm", arm, "--per-lang", str(per_lang)]
            if config_path:
                cmd += ["--config", config_path]
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=False)
            if proc.returncode != 0:
                raise RuntimeError(f"arm {arm} failed: {proc.stderr[-2000:]}")
            row = json.loads(proc.stdout.strip().splitlines()[-1])
            row["round"] = r
            runs.append(row)
            print(f"round {r} {arm}: {row['cpu_s']} CPU s, {row['spans']} spans", file=sys.stderr)
    cost = span_cost_ns()
    summary: dict[str, Any] = {}
    for arm in ARMS:
        rows = [x for x in runs if x["arm"] == arm]
        summary[arm] = {"cpu_s_median": round(statistics.median(x["cpu_s"] for x in rows), 3),
                        "cpu_s": [x["cpu_s"] for x in rows],
                        "endpoint_to_final_p50_ms": [x["endpoint_to_final_p50_ms"] for x in rows]}
    on_rows = [x for x in runs if x["arm"] == "on"]
    utterances = max(1, on_rows[0]["utterances"]) if on_rows else 1
    spans_per_utterance = on_rows[0]["spans"] / utterances if on_rows else 0.0
    per_utt_us = spans_per_utterance * (cost["on"] - cost["off"]) / 1000
    off_per_utt_us = spans_per_utterance * cost["off"] / 1000
    cpu_per_utt_ms = summary["on"]["cpu_s_median"] * 1000 / utterances
    result = {
        "benchmark": "tracing", "machine": machine(), "rounds": rounds, "per_lang": per_lang,
        "config": config_path or "default", "runs": runs, "summary": summary,
        "span_cost_ns": cost, "spans_per_utterance": round(spans_per_utterance, 1),
        "overhead_per_utterance_us": round(per_utt_us, 1),
        "off_cost_per_utterance_us": round(off_per_utt_us, 1),
        "overhead_share_of_utterance": round(per_utt_us / 1000 / cpu_per_utt_ms, 6) if cpu_per_utt_ms else None,
        "cpu_ratio_on_off": round(summary["on"]["cpu_s_median"] / summary["off"]["cpu_s_median"], 3),
    }
    write_json(out, result)
    out.with_suffix(".md").write_text(render_markdown(result))
    return result


def render_markdown(r: dict[str, Any]) -> str:
    s, c = r["summary"], r["span_cost_ns"]
    lines = [
        "# Tracing overhead (`rtt bench tracing`)", "",
        "Generated from `tracing.json`; do not edit. Same FLEURS speech sessions (real default models,",
        "refinement off, streamed in real time), each arm in its own process, arms alternating.",
        "**off** = no OpenTelemetry SDK (the default); **on** = SDK provider + batch span processor +",
        "an exporter that only counts (no network).", "",
        "| arm | CPU s per run (median) | runs | endpoint→final p50 ms per run |",
        "|---|---|---|---|",
    ]
    for arm in ARMS:
        lat = ", ".join(f"{x:.0f}" if x is not None else "-" for x in s[arm]["endpoint_to_final_p50_ms"])
        lines.append(f"| {arm} | {s[arm]['cpu_s_median']} | {', '.join(map(str, s[arm]['cpu_s']))} | {lat} |")
    lines += [
        "",
        f"- One stage-step span: **{c['off']} ns** without the SDK, **{c['on']} ns** with it.",
        f"- Tracing off: the span calls cost about **{r['off_cost_per_utterance_us']} µs per utterance** in all.",
        f"- Spans per utterance (on arm): {r['spans_per_utterance']}; so tracing on adds about "
        f"**{r['overhead_per_utterance_us']} µs per utterance** "
        f"({r['overhead_share_of_utterance']:.4%} of the CPU time an utterance takes).",
        f"- End to end, on/off CPU ratio {r['cpu_ratio_on_off']}; compare it with the spread between runs"
        " of one arm (noise on a shared 2-core machine).",
        "",
        machine_line(r["machine"]),
    ]
    return "\n".join(lines) + "\n"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("tracing", help="what OpenTelemetry tracing costs (off vs on, side by side)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--per-lang", type=int, default=1, help="FLEURS clips per language per run")
    p.add_argument("--config")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.set_defaults(func=_cli)


def _cli(args: argparse.Namespace) -> int:
    run_tracing_bench(args.out, args.rounds, args.per_lang, args.config)
    print(f"wrote {args.out} and {args.out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--arm", choices=ARMS, required=True)
    ap.add_argument("--per-lang", type=int, default=1)
    ap.add_argument("--config")
    a = ap.parse_args()
    print(json.dumps(run_arm(a.arm, a.per_lang, a.config)))
