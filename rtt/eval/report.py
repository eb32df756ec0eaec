"""Report writers: ``reports/X/`` (results.json, README.md, plots) and the leaderboard."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

TABLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("chrf", "chrF"),
    ("bleu", "BLEU"),
    ("comet", "COMET"),
    ("chrf_first_final", "chrF first final"),
    ("wer", "WER"),
    ("al", "AL"),
    ("laal", "LAAL"),
    ("first_latency_ms_p50", "first p50 ms"),
    ("final_latency_ms_p50", "final p50 ms"),
    ("final_latency_ms_p95", "final p95 ms"),
    ("revision_latency_ms_p50", "revision p50 ms"),
    ("normalized_erasure", "NE"),
    ("check_pass_rate", "checks"),
    ("n_segments", "n"),
    ("n_errors", "err"),
)


def fmt(value: Any, key: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        if "_ms" in key:
            return f"{value:.0f}" if abs(value) >= 10 else f"{value:.1f}"
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


COMET_UNSET_CELL = "not configured"


def _shown(rows: Sequence[dict[str, Any]], key: str) -> bool:
    # COMET stays visible wherever quality was scored, so a missing checkpoint reads as
    # "not configured" and never as a silently absent column.
    if key == "comet":
        return any(r.get("comet") is not None or r.get("chrf") is not None for r in rows)
    return any(r.get(key) is not None for r in rows)


def cell(row: dict[str, Any], key: str) -> str:
    if key == "comet" and row.get("comet") is None and row.get("chrf") is not None:
        return COMET_UNSET_CELL
    return fmt(row.get(key), key)


def comet_note(rows: Sequence[dict[str, Any]]) -> str:
    """``COMET: not configured`` (with how to set it) when no row has a COMET score, else ''."""
    from rtt.metrics.comet import COMET_ENV, NOT_CONFIGURED

    if any(r.get("comet") is not None for r in rows) or not any(r.get("chrf") is not None for r in rows):
        return ""
    return f"{NOT_CONFIGURED} (set {COMET_ENV} to a local checkpoint to score it)"


def markdown_table(rows: Sequence[dict[str, Any]], lead: Sequence[tuple[str, str]]) -> str:
    """Only the metric columns some row has a value for (a text run has no WER column)."""
    cols = list(lead) + [(k, label) for k, label in TABLE_COLUMNS if _shown(rows, k)]
    lines = ["| " + " | ".join(label for _, label in cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(cell(r, k) for k, _ in cols) + " |")
    return "\n".join(lines)


def text_table(rows: Sequence[dict[str, Any]]) -> str:
    """A plain-text table for the terminal."""
    cols = [("suite", "suite"), ("pair", "pair"), ("policy", "policy")]
    cols += [(k, label) for k, label in TABLE_COLUMNS if _shown(rows, k)]
    cells = [[label for _, label in cols]] + [[cell(r, k) for k, _ in cols] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cols))]
    out = []
    for n, row in enumerate(cells):
        out.append("  ".join(c.rjust(w) if n and i >= 3 else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))))
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    if note := comet_note(rows):
        out.append(note)
    return "\n".join(out)


def _plots(doc: dict[str, Any], out_dir: Path) -> list[str]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    runs = [r for r in doc["runs"] if r.get("chrf") is not None and r.get("al") is not None]
    written = []
    if runs:
        fig, ax = plt.subplots(figsize=(6.5, 4.5))
        for key in dict.fromkeys(f"{r['suite']} {r['pair']}" for r in runs):
            pts = sorted(
                ((r["al"], r["chrf"], r["policy"]) for r in runs if f"{r['suite']} {r['pair']}" == key),
                key=lambda p: p[0],
            )
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=key)
            for x, y, label in pts:
                ax.annotate(label, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
        unit = "ms of audio" if any(r.get("modality") == "speech" for r in runs) else "source words"
        ax.set_xlabel(f"Average Lagging ({unit})")
        ax.set_ylabel("chrF")
        ax.set_title(f"{doc['experiment']['name']}: quality vs latency")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(out_dir / "quality_latency.png", dpi=110)
        plt.close(fig)
        written.append("quality_latency.png")
    finals = [s["final_latency_ms"] for r in doc["runs"] for s in r.get("segments", [])
              if s.get("final_latency_ms") is not None]
    firsts = [s["first_latency_ms"] for r in doc["runs"] for s in r.get("segments", [])
              if s.get("first_latency_ms") is not None]
    if finals:
        fig, ax = plt.subplots(figsize=(6.5, 4.0))
        import numpy as np

        bins = [float(b) for b in np.histogram_bin_edges(np.asarray(firsts + finals, dtype=float), bins=30)]
        ax.hist(firsts, bins=bins, alpha=0.6, label="first partial")
        ax.hist(finals, bins=bins, alpha=0.6, label="final")
        ax.set_xlabel("latency (ms)")
        ax.set_ylabel("segments")
        ax.set_title(f"{doc['experiment']['name']}: latency per segment")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out_dir / "latency_hist.png", dpi=110)
        plt.close(fig)
        written.append("latency_hist.png")
    return written


def readme(doc: dict[str, Any], plots: Sequence[str]) -> str:
    exp = doc["experiment"]
    lines = [
        f"# Experiment `{exp['name']}`",
        "",
        "**Partial: the run was stopped before every suite direction was measured.**\n" if doc.get("partial") else "",
        exp.get("description") or "",
        "",
        f"- experiment file: `{exp.get('path')}`; config `{doc['config']['name']}` v{doc['config']['version']}"
        f" (base `{doc['config']['base']}`)",
        f"- live tier `{exp['tier']}`, final tier `{exp['final_tier'] or 'same'}`"
        + (f", refinement tier `{exp['refine_tier']}`" if exp.get("refine_tier") else "") + ", policies "
        f"{', '.join(f'`{p}`' for p in exp['policies'])}, stabilization `{exp['stabilization']}`",
        f"- segments per suite direction: limit {exp['limit'] if exp['limit'] is not None else 'suite default'};"
        f" word interval {exp['word_interval_ms']} ms (0 = timings are computation only)"
        + (f"; engines ran with {exp['threads']} CPU thread(s)" if exp.get("threads") else ""),
        f"- created {doc['created']} on {doc['environment'].get('machine')}, rtt {doc['environment'].get('rtt')},"
        f" llama-cpp-python {doc['environment'].get('llama-cpp-python')}",
        "",
        "AL/LAAL are in source words for text runs and in milliseconds of audio for speech runs. "
        "Key definitions: `docs/evaluation.md`.",
        "",
        comet_note(doc["runs"]) or "COMET: scored with the configured checkpoint.",
        "",
        "## Runs",
        "",
        markdown_table(doc["runs"], [("suite", "suite"), ("pair", "pair"), ("policy", "policy")]),
        "",
    ]
    if doc.get("summary"):
        rows = [{"policy": p, **v} for p, v in doc["summary"].items()]
        lines += ["## Mean over runs", "", markdown_table(rows, [("policy", "policy")]), ""]
    for p in plots:
        lines += [f"![{p}]({p})", ""]
    errors = sorted({e for r in doc["runs"] for e in r.get("errors", [])})
    if errors:
        lines += ["## Errors", ""] + [f"- {e}" for e in errors] + [""]
    lines += ["## Models", "", "```json", json.dumps(doc["models"], indent=2), "```", ""]
    return "\n".join(lines)


def write_report(doc: dict[str, Any], out_dir: str | Path) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    plots = _plots(doc, out)
    (out / "README.md").write_text(readme(doc, plots), encoding="utf-8")
    return out


def leaderboard(docs: Sequence[dict[str, Any]], note: str = "", pairs: Sequence[str] | None = None) -> str:
    """One row per experiment and policy: means over its runs, then chrF per direction.

    ``pairs`` restricts every experiment to those directions (means are recomputed), so rows
    that were measured on different direction sets can still be compared on a common one."""
    if pairs:
        from rtt.eval.experiment import overall

        docs = [dict(d, runs=[r for r in d["runs"] if r["pair"] in pairs]) for d in docs]
        docs = [dict(d, summary=overall(d["runs"])) for d in docs if d["runs"]]
    rows = []
    shown: list[str] = []
    for doc in docs:
        for r in doc["runs"]:
            if r["pair"] not in shown and r.get("modality") == "text":
                shown.append(r["pair"])
    for doc in docs:
        for policy, summ in doc["summary"].items():
            row = {"experiment": doc["experiment"]["name"], "policy": policy, "tier": doc["experiment"]["tier"],
                   "final": doc["experiment"]["final_tier"] or "–",
                   "refine": doc["experiment"].get("refine_tier") or "–", **summ,
                   "directions": len({r["pair"] for r in doc["runs"] if r["policy"] == policy})}
            for pair in shown:
                vals = [r["chrf"] for r in doc["runs"] if r["pair"] == pair and r["policy"] == policy
                        and r.get("chrf") is not None]
                row[f"chrF {pair}"] = round(sum(vals) / len(vals), 1) if vals else None
            rows.append(row)
    rows.sort(key=lambda r: -(r.get("chrf") or -1))
    cols = [("experiment", "experiment"), ("policy", "policy"), ("tier", "tier"), ("final", "final tier"),
            ("refine", "refinement"), ("directions", "directions"), ("chrf", "chrF"), ("bleu", "BLEU"),
            ("comet", "COMET"), ("chrf_first_final", "chrF first final"), ("al", "AL"), ("laal", "LAAL"),
            ("first_latency_ms_p50", "first p50 ms"), ("final_latency_ms_p50", "final p50 ms"),
            ("final_latency_ms_p95", "final p95 ms"), ("revision_latency_ms_p50", "revision p50 ms"),
            ("normalized_erasure", "NE"), ("n_segments", "n"), ("n_errors", "err")] + [
        (f"chrF {p}", f"chrF {p}") for p in shown]
    lines = ["| " + " | ".join(label for _, label in cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(cell(r, k) for k, _ in cols) + " |")
    head = ["# Leaderboard", "", note, ""] if note else ["# Leaderboard", ""]
    head += ["Means over each experiment's runs (text suites) on the directions it measured (`directions`), so "
             "rows with different direction sets are not directly comparable: the per-direction tables below are. "
             "Per-direction chrF at the right.", ""]
    note_line = comet_note([r for d in docs for r in d["runs"]])
    tail = ["", note_line] if note_line else []
    return "\n".join(head + lines + tail + ["", *_per_direction(docs, shown), *_provenance(docs)]) + "\n"


def _provenance(docs: Sequence[dict[str, Any]]) -> list[str]:
    """Where each row came from, read from its results.json (never typed by hand)."""
    out = ["## Provenance", "", "| experiment | created | commit | limit | models |", "|---|---|---|---|---|"]
    for doc in docs:
        exp, env = doc["experiment"], doc.get("environment", {})
        models = ", ".join(sorted({str(m.get("model") or m.get("backend")) for m in doc.get("models", {}).values()
                                   if isinstance(m, dict)}))
        limit = exp.get("limit") if exp.get("limit") is not None else "suite default"
        out.append(f"| {exp['name']} | {doc.get('created', '–')} | {env.get('git') or '–'} | {limit} | {models} |")
    return [*out, ""]


def _per_direction(docs: Sequence[dict[str, Any]], pairs: Sequence[str]) -> list[str]:
    """One table per direction: every experiment and policy with the metrics of that direction
    (the same means over runs as the ranking, restricted to the direction's runs)."""
    from rtt.eval.experiment import overall

    out = ["## Per direction", ""]
    for pair in pairs:
        rows = []
        for doc in docs:
            runs = [r for r in doc["runs"] if r["pair"] == pair and r.get("modality") == "text"]
            for policy, summ in overall(runs).items():
                suites = ", ".join(r["suite"] for r in runs if r["policy"] == policy)
                rows.append({"experiment": doc["experiment"]["name"], "policy": policy, "suites": suites, **summ})
        if not rows:
            continue
        rows.sort(key=lambda r: -(r.get("chrf") or -1))
        segments = {(d["experiment"]["name"], policy): _segments(d, pair, policy) for d in docs
                    for policy in {r["policy"] for r in d["runs"] if r["pair"] == pair}}
        best = segments.get((rows[0]["experiment"], rows[0]["policy"]), {})
        for i, row in enumerate(rows):
            row["vs_best"] = "best" if i == 0 else _versus(best, segments.get((row["experiment"], row["policy"]), {}))
        out += [f"### {pair}", "", _with_versus(rows), ""]
    out += [SIGNIFICANCE_NOTE, ""]
    return out


SIGNIFICANCE_NOTE = (
    "`chrF vs best`: the row's chrF minus the direction's best row on the segments both scored, paired "
    "bootstrap resampling (1000 resamples, seed 12345, sacrebleu's test; `rtt/eval/significance.py`); `*` marks "
    "p < 0.05, a difference unlikely to be chance on these segments.")


def _segments(doc: dict[str, Any], pair: str, policy: str) -> dict[str, tuple[str, str]]:
    """segment id -> (hypothesis, reference) of one experiment's text runs of a direction."""
    return {s["id"]: (s.get("hypothesis") or "", s["reference"]) for r in doc["runs"]
            if r["pair"] == pair and r["policy"] == policy and r.get("modality") == "text"
            for s in r.get("segments", []) if s.get("reference") and not s.get("error")}


def _versus(best: dict[str, tuple[str, str]], other: dict[str, tuple[str, str]]) -> str:
    from rtt.eval.significance import paired_bootstrap

    shared = sorted(set(best) & set(other))
    if len(shared) < 5:
        return "–"
    res = paired_bootstrap([best[i][0] for i in shared], [other[i][0] for i in shared],
                           [best[i][1] for i in shared])
    return f"{res.delta:+.1f}{res.mark()} (p {res.p_value:.2f}, n {len(shared)})"


def _with_versus(rows: Sequence[dict[str, Any]]) -> str:
    return markdown_table(rows, [("experiment", "experiment"), ("policy", "policy"), ("suites", "suites"),
                                 ("vs_best", "chrF vs best")])
