"""One speech session inside out: ``rtt bench session-trace``.

Streams FLEURS clips of one language (one after the other, a second of silence between them, so
the session has several utterances) in real time through a live session with the served config (refinement
and TTS on) and records every event it emitted: when (session clock), how much audio had been
pushed by then, and what it said.  Synthesized audio is not kept (only each chunk's length):
``notebooks/speech_session.ipynb`` re-synthesizes what it needs.  Writes
``reports/speech/session_trace.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
from pathlib import Path
from typing import Any

from rtt.bench.common import machine, write_json

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "reports" / "speech" / "session_trace.json"
DEFAULT_CLIPS = ("fleurs-es-002", "fleurs-es-004")
GAP_S = 1.0
TEXT_FIELDS = ("text", "committed", "tentative", "previous_text", "source_text", "status", "reason", "language")


def event_row(event: Any, audio_ms: float) -> dict[str, Any]:
    """One event as a flat row: its type, times and text fields (audio bytes become a length)."""
    row: dict[str, Any] = {"type": type(event).__name__, "at_ms": round(getattr(event, "at_ms", 0.0), 1),
                           "audio_pushed_ms": round(audio_ms, 1), "utterance_id": getattr(event, "utterance_id", None)}
    for name in TEXT_FIELDS:
        if dataclasses.is_dataclass(event) and hasattr(event, name):
            row[name] = getattr(event, name)
    for name in ("start_ms", "end_ms", "audio_start_ms", "audio_end_ms", "chunk_index", "sample_rate"):
        if hasattr(event, name):
            row[name] = getattr(event, name)
    if hasattr(event, "pcm16"):
        row["samples"] = len(event.pcm16) // 2
    latency = getattr(event, "latency_ms", None)
    if isinstance(latency, dict):
        row.update({f"latency_{k}_ms": round(v, 1) for k, v in latency.items()})
    return row


def record_session(clip_ids: tuple[str, ...] = DEFAULT_CLIPS, config_path: str | None = None,
                   target_lang: str = "en", tts: bool = True) -> dict[str, Any]:
    import numpy as np

    from rtt import datasets
    from rtt.audio.files import load_audio_file
    from rtt.audio.pcm import PIPELINE_RATE
    from rtt.config import load_config
    from rtt.errors import InvalidInput
    from rtt.pipeline.components import Components
    from rtt.pipeline.driver import drive_session
    from rtt.pipeline.session import Session, SessionOptions

    known = {c.clip_id: c for c in datasets.fleurs_clips()}
    clips = [known[i] for i in clip_ids if i in known]
    if len(clips) != len(clip_ids) or not clips:
        raise InvalidInput(f"unknown FLEURS clip in {list(clip_ids)}", field="clip")
    if len({c.language for c in clips}) != 1:
        raise InvalidInput("the clips of one session must share a language", field="clip")
    clip = clips[0]
    components = Components.load(load_config(config_path))
    components.prewarm(asr=True, mt=True, tts=tts, tts_langs=(target_lang,))
    gap = np.zeros(int(GAP_S * PIPELINE_RATE), dtype=np.float32)
    pieces = []
    for c in clips:
        pieces += [load_audio_file(c.audio), gap]
    audio = np.concatenate(pieces[:-1])
    session = Session(components, SessionOptions(source_lang=clip.language, target_lang=target_lang, tts=tts),
                      session_id="-".join(clip_ids))

    async def main() -> Any:
        return await drive_session(session, audio, chunk_ms=100, realtime=True, trailing_silence_s=1.5,
                                   clock=session.now_ms)

    try:
        run = asyncio.run(main())
    finally:
        components.close()
    events = [event_row(e, run.audio_pushed_by(getattr(e, "at_ms", 0.0))) for e in run.events]
    return {"benchmark": "session-trace", "machine": machine(), "clips": list(clip_ids),
            "audio": [c.audio.name for c in clips], "gap_s": GAP_S,
            "audio_ms": round(len(audio) / PIPELINE_RATE * 1000, 1), "source_lang": clip.language,
            "target_lang": target_lang, "transcripts": [c.transcript for c in clips],
            "config": config_path or "default",
            "tts": tts, "events": events}


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("session-trace", help="every event of one real-time speech session (FLEURS clip)")
    p.add_argument("--clips", default=",".join(DEFAULT_CLIPS), help="comma-separated FLEURS clip ids")
    p.add_argument("--target", default="en")
    p.add_argument("--config")
    p.add_argument("--no-tts", action="store_true")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.set_defaults(func=_cli)


def _cli(args: argparse.Namespace) -> int:
    clips = tuple(c.strip() for c in args.clips.split(",") if c.strip())
    write_json(args.out, record_session(clips, args.config, args.target, not args.no_tts))
    print(f"wrote {args.out}")
    return 0
