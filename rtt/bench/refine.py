"""``rtt bench refine``: what the refinement pass costs the live tier, and what it buys.

One typist per direction types FLORES sentences word by word at a steady pace through the live
tier (wait-k), as a session would.  Three arms run side by side in one process, one after the
other on the same sentences:

* ``none``: live tier only, the fast finals stand;
* ``gated``: the refinement pass as served: each finished sentence is re-translated by the
  refinement tier in a background thread at the lowest OS priority that also pauses whenever
  live work holds the gate (:mod:`rtt.mt.priority`), while the typist goes on with the next
  sentence;
* ``ungated``: the same re-translations as a plain concurrent thread decoding as live work does
  (all threads, normal priority, no pauses): the naive design, to show what the mechanisms
  of :mod:`rtt.mt.priority` are for.

Per arm: wait-k step ms (p50/p95/p99: the live latency the refinement must not hurt), the time
from a final to its revision, revisions skipped (bounded backlog), and chrF of the first finals
and of what stands after the revisions.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rtt.bench.common import machine, percentile, write_json

REPO = Path(__file__).resolve().parents[2]
ARMS = ("none", "gated", "ungated")


class _Refiner:
    """A session's refinement worker in miniature: one thread, a bounded backlog that drops
    the oldest waiting sentence (as :class:`rtt.pipeline.refine_stage.RefineStage` does)."""

    def __init__(self, capacity: int, low_priority: bool) -> None:
        self.capacity = capacity
        self.low_priority = low_priority
        self._jobs: deque[tuple[int, Any, float]] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self.revisions: dict[int, tuple[str, float]] = {}  # index -> (text, final->revision ms)
        self.skipped = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def offer(self, index: int, sim: Any) -> None:
        with self._cond:
            if len(self._jobs) >= self.capacity:
                self._jobs.popleft()
                self.skipped += 1
            self._jobs.append((index, sim, time.perf_counter()))
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()

    def _run(self) -> None:
        if self.low_priority:  # as the service's background thread (rtt.mt.priority)
            from rtt.mt.priority import lower_thread_priority

            lower_thread_priority()
        while True:
            with self._cond:
                while not self._jobs and not self._closed:
                    self._cond.wait()
                if not self._jobs:
                    return
                index, sim, final_at = self._jobs.popleft()
            revision = sim.revise(background=self.low_priority)
            if revision is not None:
                self.revisions[index] = (revision.text, (time.perf_counter() - final_at) * 1000)


def _pct(values: list[float]) -> dict[str, float | None]:
    return {f"p{q}": (round(v, 1) if (v := percentile(values, q)) is not None else None) for q in (50, 95, 99)} | {
        "n": len(values)}


def run_arm(translator: Any, arm: str, direction: str, sentences: Sequence[str], refs: Sequence[str], *,
            refine_tier: str, word_interval_ms: float, sentence_gap_ms: float, capacity: int,
            log: Callable[[str], None] = print) -> dict[str, Any]:
    from rtt.metrics.quality import corpus_chrf
    from rtt.mt.priority import ForegroundGate

    src, tgt = direction.split("-")
    steps: list[float] = []
    finals: list[str] = []
    refiner = _Refiner(capacity, low_priority=arm == "gated") if arm != "none" else None
    t_next = time.perf_counter()
    for index, sentence in enumerate(sentences):
        sim = translator.simultaneous(src, tgt, refine_tier=refine_tier if refiner else None)
        if arm == "ungated":
            sim.gate = ForegroundGate()  # private: other sentences' live steps never pause its revision
        words = sentence.split()
        final = ""
        for j, word in enumerate(words):
            time.sleep(max(0.0, t_next - time.perf_counter()))
            t0 = time.perf_counter()
            update = sim.push(word, source_finished=j == len(words) - 1)
            steps.append((time.perf_counter() - t0) * 1000)
            final = update.committed_text
            t_next = max(t_next, time.perf_counter()) + word_interval_ms / 1000
        finals.append(final)
        if refiner is not None:
            refiner.offer(index, sim)
        t_next += sentence_gap_ms / 1000
    revisions: dict[int, tuple[str, float]] = {}
    skipped = 0
    if refiner is not None:
        refiner.close()
        revisions, skipped = refiner.revisions, refiner.skipped
    standing = [revisions[i][0] if i in revisions else f for i, f in enumerate(finals)]
    out = {
        "arm": arm,
        "direction": direction,
        "sentences": len(sentences),
        "step_ms": _pct(steps),
        "final_to_revision_ms": _pct([ms for _, ms in revisions.values()]),
        "revisions": len(revisions),
        "skipped": skipped,
        "changed": sum(1 for i, (text, _) in revisions.items() if text != finals[i]),
        "chrf_first_final": round(corpus_chrf(finals, list(refs)).score, 2),
        "chrf": round(corpus_chrf(standing, list(refs)).score, 2),
        "gate_waits": translator.gate.waits,
    }
    log(f"{direction} {arm}: step p50 {out['step_ms']['p50']} p95 {out['step_ms']['p95']} ms, "
        f"revision p50 {out['final_to_revision_ms']['p50']} ms, chrF {out['chrf_first_final']} -> {out['chrf']}")
    return out


def run_refine_bench(
    out_path: Path,
    *,
    config_path: str | None = None,
    directions: Sequence[str] = ("de-en", "fr-en"),
    limit: int = 10,
    word_interval_ms: float = 300.0,
    sentence_gap_ms: float = 600.0,
    arms: Sequence[str] = ARMS,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    from rtt.config import load_config
    from rtt.datasets import flores
    from rtt.translator import Translator

    config = load_config(config_path)
    refine_tier = config.mt.refine_tier or "accurate"
    translator = Translator(config)
    for direction in directions:  # load and touch every engine before any clock runs
        src, tgt = direction.split("-")
        translator.translate(["Hola."], src, tgt)
        translator.translate(["Hola."], src, tgt, tier=refine_tier)
    result: dict[str, Any] = {
        "machine": machine(),
        "config": str(config_path or "rtt/data/default.yaml"),
        "live_tier": config.mt.default_tier,
        "refine_tier": refine_tier,
        "policy": f"{config.policy.name} {config.policy.stabilization}",
        "word_interval_ms": word_interval_ms,
        "sentence_gap_ms": sentence_gap_ms,
        "limit": limit,
        "runs": [],
    }
    for direction in directions:
        src, tgt = direction.split("-")
        data = flores(src, tgt).head(limit)
        sentences, refs = data.sources, data.references
        for arm in arms:
            result["runs"].append(run_arm(translator, arm, direction, sentences, refs, refine_tier=refine_tier,
                                          word_interval_ms=word_interval_ms, sentence_gap_ms=sentence_gap_ms,
                                          capacity=config.mt.refine_queue, log=log))
            write_json(out_path, result)
    translator.close()
    write_json(out_path, result)
    out_path.with_suffix(".md").write_text(render_markdown(result))
    return result


def render_markdown(result: dict[str, Any]) -> str:
    """The bench's table, generated from its JSON (never edited by hand)."""
    lines = [
        "# Refinement pass: live steps with and without it (generated by `rtt bench refine`)",
        "",
        f"Live tier `{result['live_tier']}` ({result['policy']}), refinement tier `{result['refine_tier']}`; "
        f"FLORES devtest lines 1-{result['limit']} typed at {result['word_interval_ms']:.0f} ms a word, "
        f"{result['sentence_gap_ms']:.0f} ms between sentences; {result['machine']['cpu_count']} CPUs, "
        f"{result['machine']['date']}. Arms run one after the other in one process on the same sentences: "
        "`none` = live finals only, `gated` = the refinement pass as served (one background thread under "
        "SCHED_IDLE, one llama.cpp thread, pausing while live work holds the gate), `ungated` = the same "
        "re-translations as a plain concurrent thread decoding as live work does (2 threads, normal priority).",
        "",
        "| direction | arm | step p50 / p95 / p99 ms | final -> revision p50 / p95 ms | revised / changed / skipped "
        "| chrF first final | chrF standing |",
        "|---|---|---|---|---|---|---|",
    ]

    def fmt(d: dict[str, Any], keys: Sequence[str]) -> str:
        return " / ".join("–" if d.get(k) is None else f"{d[k]:.0f}" for k in keys)

    for r in result["runs"]:
        lines.append(
            f"| {r['direction']} | {r['arm']} | {fmt(r['step_ms'], ('p50', 'p95', 'p99'))} | "
            f"{fmt(r['final_to_revision_ms'], ('p50', 'p95'))} | {r['revisions']} / {r['changed']} / {r['skipped']} | "
            f"{r['chrf_first_final']:.1f} | {r['chrf']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("refine", help="the refinement pass side by side with live-only and ungated (step ms, chrF)")
    p.add_argument("--config")
    p.add_argument("--directions", default="de-en,fr-en")
    p.add_argument("--limit", type=int, default=10, help="FLORES lines per direction")
    p.add_argument("--word-interval-ms", type=float, default=300.0, help="typing pace (300 ms = 200 words a minute)")
    p.add_argument("--arms", default=",".join(ARMS))
    p.add_argument("--out", type=Path, default=REPO / "reports" / "mt" / "refinement.json")
    p.set_defaults(func=_cli)


def _cli(args: argparse.Namespace) -> int:
    arms = [a for a in args.arms.split(",") if a]
    unknown = sorted(set(arms) - set(ARMS))
    if unknown:
        print(f"error: unknown arm(s) {', '.join(unknown)}; choose from {', '.join(ARMS)}")
        return 2
    run_refine_bench(args.out, config_path=args.config, directions=[d for d in args.directions.split(",") if d],
                     limit=args.limit, word_interval_ms=args.word_interval_ms, arms=arms)
    print(f"wrote {args.out}")
    return 0
