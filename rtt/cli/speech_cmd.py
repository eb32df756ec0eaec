"""``rtt speech-translate FILE`` (the live pipeline on a file) and ``rtt transcribe FILE``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import wave
from pathlib import Path
from typing import Any

CHUNK_MS = 100


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("speech-translate", help="stream an audio file through VAD -> ASR -> MT (-> TTS)")
    p.add_argument("file", help="audio file (ogg/opus, flac, wav, mp3, ...)")
    p.add_argument("--from", dest="source", default="auto", help="spoken language (default: auto)")
    p.add_argument("--to", dest="target", required=True, help="target language")
    p.add_argument("--mode", choices=["cascade", "direct"], default="cascade",
                   help="cascade: ASR then MT; direct: Whisper translates speech to English")
    p.add_argument("--realtime", action="store_true", help="feed audio at real-time pace (latencies as live)")
    p.add_argument("--policy", default=None, help="wait-K, local-agreement-N or full-sentence")
    p.add_argument("--stabilization", choices=["fast", "balanced", "aggressive"], default=None)
    p.add_argument("--tier", default=None)
    p.add_argument("--tts", metavar="OUT.wav", default=None, help="synthesize the translation into this WAV file")
    p.add_argument("--srt", metavar="OUT.srt", default=None, help="write translated subtitles")
    p.add_argument("--vtt", metavar="OUT.vtt", default=None, help="write translated WebVTT subtitles")
    p.add_argument("--json", action="store_true", help="one JSON object per event on stdout")
    p.add_argument("--quiet-partials", action="store_true", help="print finals only")
    p.add_argument("--config", default=None, help="rtt config YAML (default: the packaged default)")
    p.set_defaults(func=run_speech_translate)

    t = sub.add_parser("transcribe", help="transcribe an audio file (VAD segments, word timestamps)")
    t.add_argument("file")
    t.add_argument("--lang", default="auto", help="spoken language (default: auto)")
    t.add_argument("--srt", metavar="OUT.srt", default=None)
    t.add_argument("--vtt", metavar="OUT.vtt", default=None)
    t.add_argument("--json", action="store_true", help="segments with word timings as JSON")
    t.add_argument("--config", default=None)
    t.set_defaults(func=run_transcribe)


def _load(path: str) -> Any:
    from rtt.audio.files import load_audio_file

    return load_audio_file(path)


def _event_dict(event: Any) -> dict[str, Any]:
    from dataclasses import asdict

    d = asdict(event)
    if "pcm16" in d:
        d["pcm16"] = len(d["pcm16"])
    return {"type": type(event).__name__, **d}


def _print_event(event: Any, args: argparse.Namespace) -> None:
    from rtt.pipeline import events as ev

    if args.json:
        print(json.dumps(_event_dict(event), ensure_ascii=False), flush=True)
        return
    t = f"{event.at_ms / 1000:7.2f}s"
    if isinstance(event, ev.PartialAsr) and not args.quiet_partials:
        print(f"{t}  asr~  [{event.committed}] {event.tentative}", flush=True)
    elif isinstance(event, ev.PartialTranslation) and not args.quiet_partials:
        print(f"{t}  mt~   [{event.committed}] {event.tentative}", flush=True)
    elif isinstance(event, ev.FinalAsr):
        print(f"{t}  ASR   ({event.language}) {event.text}", flush=True)
    elif isinstance(event, ev.FinalTranslation):
        lat = "  ".join(f"{k}={v:.0f}" for k, v in event.latency_ms.items() if not k.endswith(("steps", "reused_partial")))
        print(f"{t}  MT    ({event.source_lang}->{event.target_lang}) {event.text}", flush=True)
        print(f"{'':9}  latency ms: {lat}", flush=True)
    elif isinstance(event, ev.Notice | ev.ErrorEvent):
        print(f"{t}  {type(event).__name__}: [{event.code}] {event.message}", file=sys.stderr, flush=True)


async def _stream(args: argparse.Namespace, audio: Any) -> list[Any]:
    from rtt.config import load_config
    from rtt.pipeline.components import Components
    from rtt.pipeline.driver import drive_session
    from rtt.pipeline.session import Session, SessionOptions

    config = load_config(args.config)
    components = Components.load(config)
    await asyncio.to_thread(components.prewarm, asr=True, mt=args.mode == "cascade")
    options = SessionOptions(
        source_lang=args.source, target_lang=args.target, mode=args.mode,
        policy=args.policy or config.policy.name, stabilization=args.stabilization or config.policy.stabilization,
        tier=args.tier, tts=bool(args.tts),
        word_timestamps=bool(args.srt or args.vtt or args.json),  # subtitles and JSON use them
    )
    run = await drive_session(Session(components, options), audio, chunk_ms=CHUNK_MS, realtime=args.realtime,
                              on_event=lambda event: _print_event(event, args))
    components.close()
    return run.events


def run_speech_translate(args: argparse.Namespace) -> int:
    from rtt.pipeline.events import FinalTranslation, TtsAudio
    from rtt.subtitles import cues_from_events, format_srt, format_webvtt

    audio = _load(args.file)
    if not len(audio):
        print(f"{args.file}: no audio samples; nothing to translate", file=sys.stderr)
        return 0
    if not _has_speech(audio, args.config):
        print(f"{args.file}: no speech found", file=sys.stderr)
        return 0  # an empty result, not an error; no model needs loading for it
    events = asyncio.run(_stream(args, audio))
    finals = [e for e in events if isinstance(e, FinalTranslation)]
    if not finals:
        print(f"{args.file}: no speech found", file=sys.stderr)
    if args.tts:
        chunks = [e for e in events if isinstance(e, TtsAudio)]
        _write_wav(Path(args.tts), chunks)
    cues = cues_from_events(events, "translation")
    if args.srt:
        Path(args.srt).write_text(format_srt(cues), encoding="utf-8")
    if args.vtt:
        Path(args.vtt).write_text(format_webvtt(cues), encoding="utf-8")
    return 0


def _has_speech(audio: Any, config_path: str | None) -> bool:
    from rtt.asr.offline import speech_segments
    from rtt.config import load_config
    from rtt.vad.factory import make_vad

    config = load_config(config_path)
    return bool(speech_segments(audio, make_vad(config.vad), config.vad))


def _write_wav(path: Path, chunks: list[Any]) -> None:
    rate = chunks[0].sample_rate if chunks else 22050
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        for c in chunks:
            w.writeframes(c.pcm16)
    print(f"wrote {path} ({sum(len(c.pcm16) for c in chunks) / 2 / rate:.1f} s of speech)", file=sys.stderr)


def run_transcribe(args: argparse.Namespace) -> int:
    from rtt.asr.offline import speech_segments, transcribe_audio
    from rtt.config import load_config
    from rtt.languages import AUTO, LANGUAGES, get_language
    from rtt.pipeline.components import Components
    from rtt.pipeline.events import FinalAsr, WordTiming
    from rtt.subtitles import cues_from_events, format_srt, format_webvtt

    lang = None if args.lang == AUTO else get_language(args.lang).code
    audio = _load(args.file)
    if not len(audio):
        print(f"{args.file}: no audio samples", file=sys.stderr)
        return 0
    config = load_config(args.config)
    components = Components.load(config)
    if not speech_segments(audio, components.make_vad(), config.vad):
        print(f"{args.file}: no speech found", file=sys.stderr)
        return 0  # a silent file is an empty result, not an error (and needs no ASR model)
    segments = transcribe_audio(audio, components.asr, components.make_vad(), config.vad, lang,
                                beam_size=config.asr.beam_size_final, allowed_languages=tuple(LANGUAGES))
    if not segments:
        print(f"{args.file}: no speech found", file=sys.stderr)
    for s in segments:
        if args.json:
            print(json.dumps({"start_s": round(s.start_s, 3), "end_s": round(s.end_s, 3), "language": s.language,
                              "text": s.text, "words": [{"text": w.text, "start_s": round(w.start_s, 3),
                                                         "end_s": round(w.end_s, 3)} for w in s.words]},
                             ensure_ascii=False))
        else:
            print(f"[{s.start_s:7.2f} -> {s.end_s:7.2f}] ({s.language}) {s.text}")
    events = [FinalAsr(i, s.text, s.language, s.start_s * 1000, s.end_s * 1000, 0.0,
                       tuple(WordTiming(w.text, w.start_s * 1000, w.end_s * 1000, w.probability) for w in s.words))
              for i, s in enumerate(segments)]
    cues = cues_from_events(events, "transcript")
    if args.srt:
        Path(args.srt).write_text(format_srt(cues), encoding="utf-8")
    if args.vtt:
        Path(args.vtt).write_text(format_webvtt(cues), encoding="utf-8")
    return 0
