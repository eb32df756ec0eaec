"""Speaker labels on two-reader conversations: ``rtt bench diarization``.

Conversations are built from FLEURS clips of two readers of one language
(rtt/eval/conversations.py): their halves alternate A B A B with a 0.8 s pause between turns,
with none, and with a 0.3 s overlap.  Each is streamed in real time through a live Session with
``diarization`` on (the served path: VAD, the change detector, the labeler); the final
transcripts' spans and speakers are scored against the turns: diarization error rate (10 ms
frames, no collar, overlap scored) and the share of utterances labelled with the right reader.
The cost is the speaker models' busy time per utterance.  Results:
``reports/speech/diarization.{json,md}``.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from typing import Any

from rtt.bench.common import machine, machine_line, write_json

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "reports" / "speech" / "diarization.json"
PAIRS = (("en", "fleurs-en-000", "fleurs-en-003"), ("en", "fleurs-en-005", "fleurs-en-006"),
         ("es", "fleurs-es-002", "fleurs-es-004"), ("de", "fleurs-de-001", "fleurs-de-002"),
         ("fr", "fleurs-fr-000", "fleurs-fr-001"))
GAPS = (0.8, 0.0, -0.3)


async def _run_one(components: Any, lang: str, conv: Any) -> dict[str, Any]:
    from rtt.eval.conversations import Turn, diarization_error, utterance_accuracy
    from rtt.pipeline import events as ev
    from rtt.pipeline.driver import drive_session
    from rtt.pipeline.session import Session, SessionOptions

    models = components.diarization
    busy0 = models.encoder.busy_seconds() + models.segmenter.busy_seconds()
    session = Session(components, SessionOptions(source_lang=lang, target_lang="en" if lang != "en" else "es",
                                                 diarization=True, refinement=False))
    run = await drive_session(session, conv.audio, chunk_ms=100, realtime=True, clock=session.now_ms)
    finals = [e for e in run.events if isinstance(e, ev.FinalAsr)]
    hyp = [Turn(e.start_ms / 1000, e.end_ms / 1000, e.speaker or "?") for e in finals]
    score = diarization_error(conv.turns, hyp)
    busy = models.encoder.busy_seconds() + models.segmenter.busy_seconds() - busy0
    det = session.audio.change_detector if session.audio is not None else None
    return {
        "conversation": conv.name, "language": lang, "gap_s": conv.gap_s, "turns": len(conv.turns),
        "utterances": len(hyp), "speakers_found": len({h.speaker for h in hyp}),
        "der": round(score.der, 4), "missed": round(score.missed, 4), "false_alarm": round(score.false_alarm, 4),
        "confusion": round(score.confusion, 4),
        "utterance_accuracy": round(utterance_accuracy(conv.turns, hyp, score.mapping), 4),
        "splits": det.splits if det else 0, "change_checks": det.checks if det else 0,
        "speaker_model_ms_per_utterance": round(1000 * busy / max(1, len(hyp)), 1),
        "audio_s": round(len(conv.audio) / 16000, 2),
        "hypothesis": [[round(h.start_s, 2), round(h.end_s, 2), h.speaker] for h in hyp],
        "reference": [[t.start_s, t.end_s, t.speaker] for t in conv.turns],
    }


def run_diarization_bench(out: Path = DEFAULT_OUT, config_path: str | None = None,
                          shared_data: Path | None = None) -> dict[str, Any]:
    from rtt.config import load_config
    from rtt.datasets import shared_data_dir
    from rtt.eval.conversations import build_conversation
    from rtt.eval.provenance import store_manifest
    from rtt.models.store import ModelStore
    from rtt.pipeline.components import Components

    config = load_config(config_path)
    data = (shared_data or shared_data_dir()) / "fleurs"
    components = Components.load(config)
    components.prewarm(asr=True, mt=True)
    _ = components.diarization
    rows = []
    t0 = time.perf_counter()
    for lang, a, b in PAIRS:
        for gap in GAPS:
            conv = build_conversation(data / f"{a}.ogg", data / f"{b}.ogg", gap)
            rows.append(asyncio.run(_run_one(components, lang, conv)))
            print(f"  {conv.name}: DER {rows[-1]['der']:.3f}, right speaker {rows[-1]['utterance_accuracy']:.2f}")
    components.close()
    by_gap = {}
    for gap in GAPS:
        sel = [r for r in rows if r["gap_s"] == gap]
        total_ref = sum(sum(t[1] - t[0] for t in r["reference"]) for r in sel)
        by_gap[f"{gap:+.1f}"] = {
            "conversations": len(sel),
            # Pooled over conversations, weighted by reference speech (as DER tools do).
            "der": round(sum(r["der"] * sum(t[1] - t[0] for t in r["reference"]) for r in sel) / total_ref, 4),
            "utterance_accuracy": round(sum(r["utterance_accuracy"] * r["utterances"] for r in sel)
                                        / max(1, sum(r["utterances"] for r in sel)), 4),
            "utterances": sum(r["utterances"] for r in sel), "turns": sum(r["turns"] for r in sel),
            "speaker_model_ms_per_utterance": round(sum(r["speaker_model_ms_per_utterance"] * r["utterances"]
                                                        for r in sel) / max(1, sum(r["utterances"] for r in sel)), 1),
        }
    result = {"benchmark": "diarization", "machine": machine(), "wall_s": round(time.perf_counter() - t0, 1),
              "models": {name: store_manifest(ModelStore(), name)
                         for name in (config.diarization.encoder, config.diarization.segmentation)},
              "threshold": config.diarization.threshold, "max_speakers": config.diarization.max_speakers,
              "by_gap": by_gap, "rows": rows}
    write_json(out, result)
    out.with_suffix(".md").write_text(render_markdown(result), encoding="utf-8")
    return result


def render_markdown(r: dict[str, Any]) -> str:
    gap_name = {"+0.8": "0.8 s pause between turns", "+0.0": "no pause", "-0.3": "0.3 s overlap"}
    lines = [
        "# Speaker labels on two-reader conversations (`rtt bench diarization`)", "",
        "Generated from `diarization.json`; do not edit. Each conversation alternates the halves of two FLEURS"
        " readers' clips (A B A B), streamed in real time through a live session with `features.diarization`;"
        " final transcripts' spans and speakers scored against the turns (10 ms frames, no collar, overlaps"
        f" scored). Models: {', '.join(f'`{m}`' for m in r['models'])}; threshold {r['threshold']}.", "",
        "| turns | conversations | DER | utterances with the right speaker | speaker-model ms per utterance |",
        "|---|---|---|---|---|",
    ]
    for gap, g in r["by_gap"].items():
        lines.append(f"| {gap_name.get(gap, gap)} | {g['conversations']} | {g['der']:.3f} |"
                     f" {g['utterance_accuracy']:.2f} ({g['utterances']} utterances, {g['turns']} turns) |"
                     f" {g['speaker_model_ms_per_utterance']:.0f} |")
    lines += ["", "| conversation | DER | missed | false alarm | confusion | right speaker | cuts at a change |",
              "|---|---|---|---|---|---|---|"]
    for row in r["rows"]:
        lines.append(f"| {row['conversation']} | {row['der']:.3f} | {row['missed']:.3f} | {row['false_alarm']:.3f} |"
                     f" {row['confusion']:.3f} | {row['utterance_accuracy']:.2f} | {row['splits']} |")
    lines += ["", "Missed speech is mostly the transcript's span being shorter than the turn (the final covers"
              " the voiced audio up to the VAD's speech end) and, with overlaps, the second voice under the first.",
              "", machine_line(r["machine"])]
    return "\n".join(lines) + "\n"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("diarization", help="speaker labels on FLEURS two-reader conversations (DER, right speaker)")
    p.add_argument("--config")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.set_defaults(func=lambda a: (run_diarization_bench(a.out, a.config), print(f"wrote {a.out}"), 0)[2])
