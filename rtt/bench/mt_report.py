"""Markdown tables (and a plot) from the MT benchmark JSON files."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def quality_matrix(data: dict[str, Any]) -> str:
    """Directions x engines: chrF (lines measured), the best of each direction in bold."""
    rows = list(data.get("rows", {}).values())
    engines = sorted({r["engine"] for r in rows})
    directions = sorted({r["direction"] for r in rows}, key=lambda d: (d.split("-")[1] != "en", d))
    cell = {(r["direction"], r["engine"]): r for r in rows}
    lines = ["| direction | " + " | ".join(engines) + " |", "|---|" + "---:|" * len(engines)]
    for d in directions:
        best = max((cell[(d, e)]["chrf"] for e in engines if (d, e) in cell), default=None)
        cells = []
        for e in engines:
            r = cell.get((d, e))
            if r is None:
                cells.append("–")
                continue
            text = f"{r['chrf']:.1f} ({r['n_segments']})"
            cells.append(f"**{text}**" if r["chrf"] == best else text)
        lines.append(f"| {d} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def quality_markdown(data: dict[str, Any]) -> str:
    rows = sorted(data.get("rows", {}).values(), key=lambda r: (r["direction"], -r["chrf"]))
    lines = [
        "| direction | engine | backend | n | chrF | BLEU | ms/sentence p50 | p95 |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['direction']} | {r['engine']} | {r['backend']} | {r['n_segments']} | {r['chrf']:.1f} | "
            f"{r['bleu']:.1f} | {r['ms_p50']:.0f} | {r['ms_p95']:.0f} |"
        )
    first: dict[str, Any] = next(iter(data.get("rows", {}).values()), {})
    sig = first.get("chrf_signature", "")
    return (
        "chrF per direction and engine (FLORES lines measured in brackets):\n\n" + quality_matrix(data)
        + "\n" + "\n".join(lines) + (f"\n\nchrF signature: `{sig}`\n" if sig else "\n")
    )


def waitk_markdown(data: dict[str, Any]) -> str:
    rows = sorted(data.get("rows", {}).values(), key=lambda r: (r["direction"], r["al"] if r["al"] is not None else 1e9))
    lines = [
        "| direction | engine | policy | n | AL (words) | LAAL | chrF | BLEU | MT step p50 ms | p95 |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        step50 = "" if r["step_ms_p50"] is None else f"{r['step_ms_p50']:.0f}"
        step95 = "" if r["step_ms_p95"] is None else f"{r['step_ms_p95']:.0f}"
        lines.append(
            f"| {r['direction']} | {r['engine']} | {r['policy']} | {r['n_segments']} | {r['al']:.2f} | "
            f"{r['laal']:.2f} | {r['chrf']:.1f} | {r['bleu']:.1f} | {step50} | {step95} |"
        )
    return "\n".join(lines) + "\n"


def waitk_plot(data: dict[str, Any], out: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(6, 4))
    by_dir: dict[str, list[dict[str, Any]]] = {}
    for r in data.get("rows", {}).values():
        by_dir.setdefault(f"{r['engine']} {r['direction']}", []).append(r)
    for label, rows in sorted(by_dir.items()):
        rows = sorted(rows, key=lambda r: r["al"] or 0)
        ax.plot([r["al"] for r in rows], [r["chrf"] for r in rows], marker="o", label=label)
        for r in rows:
            ax.annotate(r["policy"].replace("local-agreement", "LA"), (r["al"], r["chrf"]), fontsize=7)
    ax.set_xlabel("Average Lagging (source words)")
    ax.set_ylabel("chrF")
    ax.set_title("Quality vs latency of simultaneous policies (FLORES devtest)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
