"""The usual pictures of the harness, from :mod:`rtt.eval.frames` DataFrames, as matplotlib
figures (a notebook shows the figure a cell returns; ``fig.savefig`` writes one).

Needs ``matplotlib`` and ``pandas`` (``rtt[research]``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.figure import Figure


def _figure(width: float = 7.0, height: float = 4.0) -> tuple[Figure, Any]:
    # Figure() rather than pyplot: no global figure registry, so nothing leaks between cells.
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def quality_vs_latency(frame: pd.DataFrame, *, x: str = "laal", y: str = "chrf", hue: str = "policy",
                       label: str | None = None, xerr: str | None = None, yerr: str | None = None,
                       title: str = "") -> Figure:
    """One point per row, one colour per ``hue`` value; ``label`` annotates each point;
    ``xerr`` / ``yerr`` name columns of half-widths (confidence intervals)."""
    fig, ax = _figure()
    for key, group in frame.groupby(hue, sort=False):
        ax.errorbar(group[x], group[y], xerr=group[xerr] if xerr else None, yerr=group[yerr] if yerr else None,
                    fmt="o", capsize=3, label=str(key))
        if label:
            for _, row in group.iterrows():
                ax.annotate(str(row[label]), (row[x], row[y]), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title)
    return fig


def waterfall(events: pd.DataFrame, meta: dict[str, Any]) -> Figure:
    """Per utterance, what happened when (session clock, seconds): speech (VAD start to endpoint),
    partial transcripts and translations, the final transcript and translation, the revisions,
    and the synthesized speech chunks."""
    fig, ax = _figure(8.0, 1.2 + 0.9 * max(1, events["utterance_id"].nunique()))
    marks = {"PartialAsr": ("|", "tab:blue", "partial transcript"),
             "PartialTranslation": ("|", "tab:orange", "partial translation"),
             "FinalAsr": ("D", "tab:blue", "final transcript"),
             "FinalTranslation": ("D", "tab:orange", "final translation"),
             "RevisedAsr": ("*", "tab:purple", "revised transcript"),
             "RevisedTranslation": ("*", "tab:red", "revised translation"),
             "TtsAudio": ("s", "tab:green", "speech chunk")}
    utterances = sorted(u for u in events["utterance_id"].dropna().unique())
    for row_i, utt in enumerate(utterances):
        ev = events[events["utterance_id"] == utt]
        start = ev[ev["type"] == "SpeechStarted"]["at_ms"]
        stop = ev[ev["type"] == "SpeechStopped"]["at_ms"]
        if len(start) and len(stop):
            ax.barh(row_i, (stop.iloc[0] - start.iloc[0]) / 1000, left=start.iloc[0] / 1000, height=0.5,
                    color="0.85", label="speech (VAD)" if row_i == 0 else None)
        for kind, (marker, colour, name) in marks.items():
            at = ev[ev["type"] == kind]["at_ms"] / 1000
            if len(at):
                # transcripts just above the speech bar, translations just below, speech on it
                lane = -0.15 if "Asr" in kind else (0.15 if "Translation" in kind else 0.0)
                ax.scatter(at, [row_i + lane] * len(at), marker=marker, color=colour, s=40 if marker != "|" else 80,
                           label=name if row_i == 0 or not ax.get_legend_handles_labels()[1].count(name) else None,
                           zorder=3)
    ax.set_yticks(range(len(utterances)), [f"utterance {int(u)}" for u in utterances])
    ax.invert_yaxis()
    ax.set_xlabel("session time (s)")
    ax.grid(axis="x", alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=False))
    ax.legend(unique.values(), unique.keys(), fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_title(f"{' + '.join(meta.get('clips', []))} {meta.get('source_lang', '')}→{meta.get('target_lang', '')}")
    return fig


def captions_over_time(events: pd.DataFrame) -> pd.DataFrame:
    """What the caption lines showed, event by event: time, the transcript line, the translation
    line (committed words, then tentative ones in brackets)."""
    source, target = "", ""
    rows = []
    for _, e in events.sort_values("at_ms").iterrows():
        kind = e["type"]
        if kind == "PartialAsr":
            source = f"{e['committed']} [{e['tentative']}]".replace(" []", "")
        elif kind in ("FinalAsr", "RevisedAsr"):
            source = e["text"]
        elif kind == "PartialTranslation":
            target = f"{e['committed']} [{e['tentative']}]".replace(" []", "")
        elif kind in ("FinalTranslation", "RevisedTranslation"):
            target = e["text"]
        else:
            continue
        rows.append({"at_s": round(e["at_ms"] / 1000, 2), "event": kind, "transcript": source, "translation": target})
    return pd.DataFrame(rows)


def capacity_curves(frame: pd.DataFrame, *, kind: str = "text", y: str = "server_p50_ms", by: str = "direction",
                    arm: str | None = None, title: str = "") -> Figure:
    """Latency (``y``) against sessions at once, one line per ``by`` value (and arm)."""
    fig, ax = _figure()
    data = frame[frame["kind"] == kind]
    keys = [by] + (["arm"] if arm or data["arm"].nunique() > 1 else [])
    for key, group in data.groupby(keys, sort=False):
        group = group.sort_values("concurrency")
        name = " ".join(map(str, key)) if isinstance(key, tuple) else str(key)
        ax.plot(group["concurrency"], group[y], marker="o", label=name)
    ax.set_xscale("log", base=2)
    levels = sorted(data["concurrency"].unique())
    ax.set_xticks(levels, [str(int(v)) for v in levels])
    ax.set_yscale("log")
    ax.set_xlabel("sessions at once")
    ax.set_ylabel(y)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    ax.set_title(title or f"{kind} sessions")
    return fig


def grouped_bars(frame: pd.DataFrame, *, index: str, columns: str, values: str, title: str = "",
                 ylabel: str = "") -> Figure:
    """Bars of ``values`` per ``index`` value, one bar per ``columns`` value (e.g. WER per language
    and system)."""
    fig, ax = _figure()
    frame.pivot_table(index=index, columns=columns, values=values, aggfunc="first").plot.bar(ax=ax, rot=0)
    ax.set_ylabel(ylabel or values)
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(title)
    return fig
