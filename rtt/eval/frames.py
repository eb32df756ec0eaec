"""The reports under ``reports/`` as pandas DataFrames, for notebooks.

Every frame carries provenance columns, read from the file it came from (never typed): ``file``,
``date``, ``commit``, ``config``, ``models`` (model file hashes where the file records them) and
``host_load`` (the 1-minute load average before a benchmark ran, where recorded).  Notebooks stay
thin: they call these, sort and filter the frames, and hand them to :mod:`rtt.eval.plots`.

Needs ``pandas`` (``rtt[research]``).
"""

from __future__ import annotations

import glob
import json
from pathlib import Path
from typing import Any

import pandas as pd

from rtt.errors import InvalidInput

REPO = Path(__file__).resolve().parents[2]
REPORTS = REPO / "reports"
PROVENANCE = ("file", "date", "commit", "config", "models", "host_load")


def _load(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise InvalidInput(f"no report at {p}", code="NOT_FOUND", path=str(p))
    data: dict[str, Any] = json.loads(p.read_text(encoding="utf-8"))
    return data


def _rel(path: str | Path) -> str:
    p = Path(path).resolve()
    return str(p.relative_to(REPO)) if p.is_relative_to(REPO) else str(p)


def _model_hashes(models: Any) -> str:
    """``name=hash`` for every model file hash a report records, sorted (one cell)."""
    out = set()
    if not isinstance(models, dict):  # a report that names its models without hashes
        return ""
    for name, info in models.items():
        if isinstance(info, dict):
            for _file, digest in (info.get("sha256") or {}).items():
                out.add(f"{info.get('model') or name}={str(digest)[:12]}")
    return ", ".join(sorted(out))


def provenance(doc: dict[str, Any], path: str | Path) -> dict[str, Any]:
    """The provenance columns of one report."""
    env = doc.get("environment") or {}
    machine = doc.get("machine") or {}
    load = doc.get("load_average_before")
    config = doc.get("config")
    if isinstance(config, dict):
        config = config.get("name")
    elif isinstance(config, str) and config.startswith("/"):
        config = _rel(config)
    return {"file": _rel(path), "date": doc.get("created") or machine.get("date"), "commit": env.get("git"),
            "config": config, "models": _model_hashes(doc.get("models")) or None,
            "host_load": load[0] if isinstance(load, list) and load else None}


# -- experiment results (rtt experiment run → reports/X/results.json) ---------------------------
RUN_COLUMNS = ("chrf", "bleu", "comet", "chrf_first_final", "wer", "al", "laal", "first_latency_ms_p50",
               "final_latency_ms_p50", "final_latency_ms_p95", "revision_latency_ms_p50", "normalized_erasure",
               "n_segments", "n_errors")


def _results(pattern: str | Path) -> list[tuple[str, dict[str, Any]]]:
    paths = sorted(glob.glob(str(pattern))) if any(c in str(pattern) for c in "*?[") else [str(pattern)]
    out = []
    for path in paths:
        doc = _load(path)
        if doc.get("schema") == "rtt.eval.results":
            out.append((path, doc))
    return out


def experiment_runs(pattern: str | Path = REPORTS / "*" / "results.json") -> pd.DataFrame:
    """One row per run (experiment × suite × direction × policy) of every results.json matched."""
    rows = []
    for path, doc in _results(pattern):
        exp = doc["experiment"]
        for run in doc["runs"]:
            rows.append({"experiment": exp["name"], "suite": run.get("suite"), "pair": run["pair"],
                         "modality": run.get("modality"), "policy": run["policy"], "tier": exp.get("tier"),
                         "final_tier": exp.get("final_tier"), "refine_tier": exp.get("refine_tier"),
                         **{k: run.get(k) for k in RUN_COLUMNS}, **provenance(doc, path)})
    return pd.DataFrame(rows)


def experiment_segments(pattern: str | Path = REPORTS / "*" / "results.json") -> pd.DataFrame:
    """One row per scored segment: its id, source, reference, hypothesis and latencies."""
    rows = []
    for path, doc in _results(pattern):
        for run in doc["runs"]:
            for seg in run.get("segments", []):
                rows.append({"experiment": doc["experiment"]["name"], "pair": run["pair"], "policy": run["policy"],
                             "modality": run.get("modality"), "id": seg["id"], "source": seg.get("source"),
                             "reference": seg.get("reference"), "hypothesis": seg.get("hypothesis"),
                             "first_final": seg.get("first_final"), "error": seg.get("error"),
                             "first_latency_ms": seg.get("first_latency_ms"),
                             "final_latency_ms": seg.get("final_latency_ms"),
                             "stage_asr_ms": (seg.get("stage_ms") or {}).get("asr"),
                             "stage_mt_ms": (seg.get("stage_ms") or {}).get("mt"),
                             "audio_ms": seg.get("source_length") if run.get("modality") == "speech" else None,
                             "file": _rel(path)})
    return pd.DataFrame(rows)


# -- benchmarks (rtt bench … → reports/**/X.json) ------------------------------------------------
def mt_quality(path: str | Path = REPORTS / "mt" / "quality.json") -> pd.DataFrame:
    """``rtt bench mt``: chrF, BLEU and ms per sentence for every engine and direction."""
    doc = _load(path)
    rows = [{k: v for k, v in row.items() if k != "examples"} for row in doc["rows"].values()]
    frame = pd.DataFrame(rows)
    for k, v in provenance(doc, path).items():
        frame[k] = v
    return frame


def _levels(path: str | Path) -> pd.DataFrame:
    doc = _load(path)
    rows = []
    for lv in doc["levels"]:
        client = lv.get("client_final_latency_ms") or {}
        server = lv.get("server_latency_ms") or {}
        rows.append({"kind": lv["kind"], "direction": lv.get("direction"), "arm": lv.get("arm", "served"),
                     "concurrency": lv["concurrency"], "sessions_sustained": lv.get("sessions_sustained"),
                     "finals_expected": lv.get("finals_expected"), "finals_received": lv.get("finals_received"),
                     "lost": lv.get("lost"), "errors": lv.get("errors"),
                     "client_p50_ms": client.get("p50"), "client_p95_ms": client.get("p95"),
                     "server_p50_ms": server.get("p50"), "server_p95_ms": server.get("p95"),
                     "wall_s": lv.get("wall_s"),
                     "finals_per_s": (lv.get("finals_received") or 0) / lv["wall_s"] if lv.get("wall_s") else None,
                     **provenance(doc, path)})
    return pd.DataFrame(rows)


def capacity(path: str | Path = REPORTS / "serve" / "load.json") -> pd.DataFrame:
    """``rtt bench serve``: one row per load level (sessions at once, direction, kind)."""
    return _levels(path)


def batching(path: str | Path = REPORTS / "serve" / "batching.json") -> pd.DataFrame:
    """``rtt bench serve --batching``: the capacity levels for the batched and unbatched arms."""
    return _levels(path)


def peer_wer(path: str | Path = REPORTS / "speech" / "peer.json") -> pd.DataFrame:
    """``rtt bench asr --peer``: WER (final, standing) per system and language."""
    doc = _load(path)
    rows = []
    for system, data in doc["systems"].items():
        for lang, w in data["wer"].items():
            rows.append({"system": system, "language": lang, "wer_final": w.get("final"),
                         "wer_standing": w.get("standing"), "clips": w.get("clips"), **provenance(doc, path)})
    return pd.DataFrame(rows)


def peer_latency(path: str | Path = REPORTS / "speech" / "peer.json") -> pd.DataFrame:
    """``rtt bench asr --peer``: each latency measure (p50, p95) per system."""
    doc = _load(path)
    rows = []
    for system, data in doc["systems"].items():
        for key, value in data.items():
            if key.endswith("_ms") and isinstance(value, dict) and "p50" in value:
                rows.append({"system": system, "measure": key, "n": value.get("n"), "p50": value.get("p50"),
                             "p95": value.get("p95")})
    return pd.DataFrame(rows)


def canary(path: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """``rtt canary --json-out``: the arms' metrics side by side, and the decision (go, reasons,
    significance)."""
    doc = _load(path)
    base, cand = doc["baseline"], doc["candidate"]
    keys = list(dict.fromkeys([*base["metrics"], *cand["metrics"]]))
    frame = pd.DataFrame({"metric": keys, base["name"]: [base["metrics"].get(k) for k in keys],
                          cand["name"]: [cand["metrics"].get(k) for k in keys]}).set_index("metric")
    decision = {"go": doc["go"], "reasons": doc["reasons"], "shadow": doc.get("shadow"),
                "significance": doc.get("significance", {}), "baseline": base["name"], "candidate": cand["name"]}
    return frame, decision


def canary_segments(path: str | Path) -> pd.DataFrame:
    """The canary's segments, one row per segment with both arms' outputs side by side."""
    doc = _load(path)
    frame = pd.DataFrame(doc["segments"])
    if frame.empty:
        return frame
    cols = [c for c in ("hypothesis", "final_latency_ms", "error") if c in frame]
    wide = frame.pivot_table(index="id", columns="arm", values=cols, aggfunc="first")
    wide.columns = [f"{arm}_{col}" for col, arm in wide.columns]
    keep = [c for c in ("source", "reference") if c in frame]
    return frame.drop_duplicates("id").set_index("id")[keep].join(wide) if keep else wide


def session_trace(path: str | Path = REPORTS / "speech" / "session_trace.json") -> tuple[pd.DataFrame, dict[str, Any]]:
    """``rtt bench session-trace``: every event of one speech session (one row each), and the
    session's metadata (clip, languages, utterance spans)."""
    doc = _load(path)
    return pd.DataFrame(doc["events"]), {k: v for k, v in doc.items() if k != "events"}


def benchmark_files(root: str | Path = REPORTS) -> pd.DataFrame:
    """Every JSON report under ``root`` with its kind and provenance (what a notebook can load)."""
    rows = []
    for path in sorted(Path(root).rglob("*.json")):
        try:
            doc = _load(path)
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
        kind = doc.get("schema") or doc.get("benchmark") or ("peer-asr" if "systems" in doc else None)
        rows.append({"kind": kind, **provenance(doc, path)})
    return pd.DataFrame(rows)
