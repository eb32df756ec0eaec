"""MT benchmarks on FLORES-200 devtest.

* ``quality``: every engine × direction → chrF, BLEU and ms per sentence (p50/p95), one
  sentence per call as a live request would see it.
* ``waitk``: the quality–latency curve of a policy family on one engine (AL and LAAL vs chrF,
  plus the per-step MT cost that decides whether partials keep up with speech).

Results are merged into the JSON file entry by entry, so a long run can be interrupted and
resumed, and ``--only`` re-measures selected rows without discarding the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from rtt.bench.common import load_json, machine, percentile, write_json
from rtt.bench.mt_report import quality_markdown, waitk_markdown, waitk_plot
from rtt.config import RttConfig
from rtt.datasets import flores
from rtt.errors import BackendUnavailable, ModelMissing
from rtt.metrics.latency import average_lagging, length_adaptive_average_lagging
from rtt.metrics.quality import corpus_bleu, corpus_chrf
from rtt.mt.base import MtRequest
from rtt.mt.registry import EngineRegistry
from rtt.policies.base import PolicyContext
from rtt.policies.factory import make_policy

DIRECTIONS = [f"{s}-{t}" for s in ("en", "es", "de", "fr") for t in ("en", "es", "de", "fr") if s != t]


def _key(engine: str, direction: str) -> str:
    return f"{engine}:{direction}"


def run_quality(
    config: RttConfig,
    out: Path,
    engines: Sequence[str],
    directions: Sequence[str] = DIRECTIONS,
    limit: int | None = 50,
    force: bool = False,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    data = load_json(out) or {"benchmark": "mt-quality", "dataset": "flores200-devtest", "rows": {}}
    data["machine"] = machine()
    registry = EngineRegistry(config.mt)
    try:
        for name in engines:
            try:
                engine = registry.get(name)
            except (BackendUnavailable, ModelMissing) as exc:
                log(f"{name}: skipped ({exc.message})")
                continue
            for direction in directions:
                src, tgt = direction.split("-")
                if not engine.supports(src, tgt):
                    continue
                key = _key(name, direction)
                n = limit or 506
                if not force and data["rows"].get(key, {}).get("n_segments") == n:
                    continue
                ds = flores(src, tgt).head(limit)
                hyps, ms = [], []
                for s in tqdm(ds.sources, desc=key, unit="seg", leave=False):
                    t0 = time.perf_counter()
                    res = engine.translate_batch([MtRequest(s, src, tgt)])[0]
                    ms.append((time.perf_counter() - t0) * 1000)
                    hyps.append(res.text)
                chrf = corpus_chrf(hyps, ds.references)
                bleu = corpus_bleu(hyps, ds.references, tgt)
                row = {
                    "engine": name,
                    "backend": config.mt.engines[name].backend,
                    "model": config.mt.engines[name].model,
                    "direction": direction,
                    "n_segments": len(hyps),
                    "chrf": round(chrf.score, 2),
                    "bleu": round(bleu.score, 2),
                    "ms_p50": round(percentile(ms, 50) or 0, 1),
                    "ms_p95": round(percentile(ms, 95) or 0, 1),
                    "chrf_signature": chrf.signature,
                    "bleu_signature": bleu.signature,
                    "examples": [{"src": s, "hyp": h, "ref": r} for s, h, r in list(zip(ds.sources, hyps, ds.references, strict=True))[:3]],
                }
                data["rows"][key] = row
                write_json(out, data)
                out.with_suffix(".md").write_text(quality_markdown(data))
                log(f"{key}: chrF {row['chrf']} BLEU {row['bleu']} p50 {row['ms_p50']} ms (n={len(hyps)})")
    finally:
        registry.close()
    return data


def run_waitk(
    config: RttConfig,
    out: Path,
    engine_name: str,
    directions: Sequence[str] = ("es-en", "en-de"),
    policies: Sequence[str] = ("wait-1", "wait-3", "wait-5", "wait-7", "local-agreement-2", "full-sentence"),
    limit: int | None = 30,
    force: bool = False,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    data = load_json(out) or {"benchmark": "simultaneous-curve", "dataset": "flores200-devtest", "rows": {}}
    data["machine"] = machine()
    registry = EngineRegistry(config.mt)
    try:
        engine = registry.get(engine_name)
        for direction in directions:
            src, tgt = direction.split("-")
            ds = flores(src, tgt).head(limit)
            for pol in policies:
                key = f"{engine_name}:{direction}:{pol}"
                if not force and data["rows"].get(key, {}).get("n_segments") == len(ds.sources):
                    continue
                hyps, als, laals, step_ms = [], [], [], []
                for s, ref in tqdm(list(zip(ds.sources, ds.references, strict=True)), desc=key, leave=False):
                    # stabilization "aggressive" = no tentative words: measure committed output only
                    policy = make_policy(pol, PolicyContext(engine, src, tgt), "aggressive")
                    words = s.split()
                    for i, w in enumerate(words):
                        step = policy.push([w], source_finished=i == len(words) - 1)
                        if step.cost.wall_ms and not step.finished:
                            step_ms.append(step.cost.wall_ms)
                    delays = [e.source_read for e in policy.emitted]
                    hyps.append(policy.committed_text)
                    if delays:
                        als.append(average_lagging(delays, len(words)))
                        laals.append(length_adaptive_average_lagging(delays, len(words), len(ref.split())))
                chrf = corpus_chrf(hyps, ds.references)
                row = {
                    "engine": engine_name,
                    "direction": direction,
                    "policy": pol,
                    "n_segments": len(hyps),
                    "chrf": round(chrf.score, 2),
                    "bleu": round(corpus_bleu(hyps, ds.references, tgt).score, 2),
                    "al": round(sum(als) / len(als), 3) if als else None,
                    "laal": round(sum(laals) / len(laals), 3) if laals else None,
                    "step_ms_p50": round(percentile(step_ms, 50) or 0, 1) if step_ms else None,
                    "step_ms_p95": round(percentile(step_ms, 95) or 0, 1) if step_ms else None,
                }
                data["rows"][key] = row
                write_json(out, data)
                out.with_suffix(".md").write_text(waitk_markdown(data))
                waitk_plot(data, out.with_suffix(".png"))
                log(f"{key}: chrF {row['chrf']} AL {row['al']} step p50 {row['step_ms_p50']} ms")
    finally:
        registry.close()
    return data
