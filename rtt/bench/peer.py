"""``rtt bench asr --peer whisperlivekit``: rtt's recognition against the LocalAgreement peer.

Both systems run on the store's Whisper model (CTranslate2, same compute type and threads) and
hear the 23 FLEURS clips in ``$RTT_SHARED_DATA/fleurs`` at real-time pace, one system at a time,
which one goes first alternating clip by clip.  The peer is WhisperLiveKit's
``OnlineASRProcessor`` (whisper_streaming's LocalAgreement-2 with segment buffer trimming, its
defaults) over faster-whisper, with the call its ``FasterWhisperASR`` backend makes (beam 5,
word timestamps, conditioned on previous text); no VAD (its VAC needs torch).  rtt runs its live
session as the server does (VAD, partials, final, MT, refinement pass).

Word times come from one offline decode of each clip (beam 5, word timestamps): a committed
word's latency is when it was committed minus when it ended in the audio, on the streaming
clock; first display is when something was first shown at its position.  Nothing here is
asserted: the report says what this machine measured.

The peer comes from PyPI (``make peer-bench-deps``: ``pip install --no-deps whisperlivekit``):
its package ``__init__`` imports its torch backends, so its LocalAgreement modules are loaded
without running it (:func:`peer_modules`), and nothing is downloaded (the model directory is
given, its warm-up is not called).
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import importlib
import importlib.util
import sys
import time
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rtt.asr.normalize import normalize_text, normalize_word
from rtt.audio.pcm import PIPELINE_RATE
from rtt.bench.common import machine, percentile, write_json
from rtt.datasets import SpeechClip

REPO = Path(__file__).resolve().parents[2]
PEER_VERSION = "0.2.26"
TRAILING_SILENCE_S = 1.5  # both systems get it after the clip, as rtt's speech bench does
PEER_MIN_CHUNK_S = 0.1  # WhisperLiveKit's min_chunk_size default


@dataclass
class ShownWord:
    """A word of a system's final transcript and when the listener got it (streaming clock, ms)."""

    text: str
    committed_ms: float  # committed (never to change) or, for words first fixed by a final, the final
    displayed_ms: float  # first time anything was shown at its position
    only_at_final: bool


@dataclass
class ClipRun:
    system: str
    clip: str
    final: str  # what the live stream ended with
    standing: str  # after revisions (rtt's refinement pass); the final for the peer
    words: list[ShownWord]
    pushed_at: Callable[[float], float]  # audio position (ms) -> when it was pushed (ms)
    revision_ms: list[float] = field(default_factory=list)  # endpoint -> revised_asr
    revision_status: list[str] = field(default_factory=list)  # of each revised_asr
    endpoint_to_final_ms: list[float] = field(default_factory=list)
    wall_s: float = 0.0


def peer_modules() -> tuple[Any, Any]:
    """WhisperLiveKit's ``online_asr`` and ``timed_objects`` modules, without its package
    ``__init__`` (which imports torch for backends this benchmark does not use)."""
    if "whisperlivekit" not in sys.modules:
        spec = importlib.util.find_spec("whisperlivekit")
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit("the peer is not installed: make peer-bench-deps "
                             f"(pip install --no-deps whisperlivekit=={PEER_VERSION})")
        package = types.ModuleType("whisperlivekit")
        package.__path__ = list(spec.submodule_search_locations)
        sys.modules["whisperlivekit"] = package
    return (importlib.import_module("whisperlivekit.local_agreement.online_asr"),
            importlib.import_module("whisperlivekit.timed_objects"))


class PeerFasterWhisper:
    """The peer's ``FasterWhisperASR`` backend, as its 0.2.26 source has it, on a given model."""

    sep = ""  # faster-whisper words carry their own leading spaces
    tokenizer = None
    confidence_validation = False
    buffer_trimming = "segment"
    buffer_trimming_sec = 15.0

    def __init__(self, model: Any, language: str, token_type: Any) -> None:
        self.model = model
        self.original_language = language
        self.token_type = token_type
        self.calls = 0

    def transcribe(self, audio: np.ndarray, init_prompt: str = "") -> list[Any]:
        self.calls += 1
        segments, _ = self.model.transcribe(audio, language=self.original_language, initial_prompt=init_prompt,
                                            beam_size=5, word_timestamps=True, condition_on_previous_text=True)
        return list(segments)

    def ts_words(self, segments: list[Any]) -> list[Any]:
        return [self.token_type(w.start, w.end, w.word, probability=w.probability)
                for s in segments if s.no_speech_prob <= 0.9 for w in s.words]

    def segments_end_ts(self, segments: list[Any]) -> list[float]:
        return [s.end for s in segments]


def run_peer_clip(model: Any, clip: SpeechClip, audio: np.ndarray) -> ClipRun:
    online_asr, timed = peer_modules()
    asr = PeerFasterWhisper(model, clip.language, timed.ASRToken)
    online = online_asr.OnlineASRProcessor(asr)
    audio = np.concatenate([audio, np.zeros(int(TRAILING_SILENCE_S * PIPELINE_RATE), np.float32)])
    committed: list[tuple[str, float]] = []
    displayed: list[float] = []
    t0 = time.monotonic()
    now = lambda: (time.monotonic() - t0) * 1000  # noqa: E731
    pos = 0
    while pos < len(audio):
        arrived = min(len(audio), int((time.monotonic() - t0) * PIPELINE_RATE))
        if arrived - pos < PEER_MIN_CHUNK_S * PIPELINE_RATE and arrived < len(audio):
            time.sleep(PEER_MIN_CHUNK_S)
            continue
        online.insert_audio_chunk(audio[pos:arrived])
        pos = arrived
        new, _ = online.process_iter()
        at = now()
        committed += [(t.text, at) for t in new]
        on_screen = len(committed) + len(online.transcript_buffer.buffer)
        displayed += [at] * max(0, on_screen - len(displayed))
    rest, _ = online.finish()
    at = now()
    tokens = [(w, t, displayed[i] if i < len(displayed) else t, False) for i, (w, t) in enumerate(committed)]
    tokens += [(tok.text, at, displayed[i] if i < len(displayed) else at, True)
               for i, tok in enumerate(rest, start=len(tokens))]
    words: list[ShownWord] = []
    for text, t, shown, final_only in tokens:
        if words and not text.startswith(" "):  # a word's continuation ("L" + "'accident")
            last = words[-1]
            words[-1] = ShownWord(last.text + text, max(last.committed_ms, t), last.displayed_ms,
                                  last.only_at_final or final_only)
        elif text.strip():
            words.append(ShownWord(text.strip(), t, shown, final_only))
    text = " ".join(w.text for w in words)

    def pushed_at(audio_ms: float) -> float:
        return audio_ms  # audio arrives at real-time pace from t0
    return ClipRun("whisperlivekit", clip.clip_id, text, text, words, pushed_at, wall_s=at / 1000)


def run_rtt_clip(components: Any, clip: SpeechClip, audio: np.ndarray) -> ClipRun:
    from rtt.bench.speech import CHUNK_MS, _direction
    from rtt.pipeline import events as ev
    from rtt.pipeline.driver import drive_session
    from rtt.pipeline.session import Session, SessionOptions

    async def go() -> Any:
        opts = SessionOptions(source_lang=clip.language, target_lang=_direction(clip.language))
        session = Session(components, opts, session_id=clip.clip_id)
        return await drive_session(session, audio, chunk_ms=CHUNK_MS, realtime=True,
                                   trailing_silence_s=TRAILING_SILENCE_S, clock=session.now_ms)

    t = time.perf_counter()
    run = asyncio.run(go())
    wall = time.perf_counter() - t
    finals = sorted((e for e in run.events if isinstance(e, ev.FinalAsr)), key=lambda e: e.utterance_id)
    heard = {e.utterance_id: e for e in run.events if isinstance(e, ev.RevisedAsr)}
    words: list[ShownWord] = []
    for fa in finals:
        partials = [e for e in run.events if isinstance(e, ev.PartialAsr) and e.utterance_id == fa.utterance_id]
        for i, w in enumerate(fa.text.split()):
            commit = next((p.at_ms for p in partials if len(p.committed.split()) > i), None)
            shown = next((p.at_ms for p in partials if len(p.text.split()) > i), fa.at_ms)
            words.append(ShownWord(w, commit if commit is not None else fa.at_ms, min(shown, fa.at_ms), commit is None))
    from rtt.pipeline.events import standing_text

    finals_tr = [e for e in run.events if isinstance(e, ev.FinalTranslation)]
    return ClipRun(
        "rtt", clip.clip_id, " ".join(f.text for f in finals), standing_text(finals, heard), words, run.pushed_at,
        revision_ms=[h.latency_ms["endpoint_to_revision"] for h in heard.values()
                     if h.status != "skipped" and "endpoint_to_revision" in h.latency_ms],
        endpoint_to_final_ms=[f.latency_ms["endpoint_to_final"] for f in finals_tr if "endpoint_to_final" in f.latency_ms],
        revision_status=[f"{h.status}:{h.reason}" if h.reason else h.status for h in heard.values()],
        wall_s=wall,
    )


def offline_words(model: Any, clip: SpeechClip, audio: np.ndarray) -> list[tuple[str, float]]:
    """(word, end in ms) from one offline beam-5 decode with word timestamps: the clock both
    systems' word latencies are measured against."""
    segments, _ = model.transcribe(audio, language=clip.language, beam_size=5, word_timestamps=True)
    return [(w.word.strip(), 1000 * w.end) for s in segments for w in s.words]


def word_latencies(run: ClipRun, reference: list[tuple[str, float]]) -> dict[str, list[float]]:
    """Latencies of the run's words that match a word of the offline decode (same normalized
    text, aligned in order)."""
    hyp = [normalize_word(w.text) for w in run.words]
    ref = [normalize_word(w) for w, _ in reference]
    out: dict[str, list[float]] = {"committed": [], "displayed": []}
    for block in difflib.SequenceMatcher(a=hyp, b=ref, autojunk=False).get_matching_blocks():
        for k in range(block.size):
            word, (_, end_ms) = run.words[block.a + k], reference[block.b + k]
            spoken = run.pushed_at(end_ms)
            out["committed"].append(word.committed_ms - spoken)
            out["displayed"].append(word.displayed_ms - spoken)
    return out


def _pcts(values: list[float]) -> dict[str, Any]:
    r = lambda x: round(x, 1) if x is not None else None  # noqa: E731
    return {"n": len(values), "p50": r(percentile(values, 50)), "p95": r(percentile(values, 95))}


def _summary(runs: list[ClipRun], refs: dict[str, list[tuple[str, float]]], clips: dict[str, SpeechClip]) -> dict[str, Any]:
    from rtt.metrics.wer import word_error_rate

    wer: dict[str, Any] = {}
    for lang in sorted({clips[r.clip].language for r in runs}) + ["all"]:
        sel = [r for r in runs if lang == "all" or clips[r.clip].language == lang]
        truth = [clips[r.clip].transcript for r in sel]
        wer[lang] = {"final": round(word_error_rate(truth, [r.final for r in sel]), 4),
                     "standing": round(word_error_rate(truth, [r.standing for r in sel]), 4), "clips": len(sel)}
    lat: dict[str, list[float]] = {"committed": [], "displayed": []}
    for r in runs:
        for k, v in word_latencies(r, refs[r.clip]).items():
            lat[k] += v
    words = [w for r in runs for w in r.words]
    return {
        "wer": wer,
        "committed_word_latency_ms": _pcts(lat["committed"]),
        "first_display_latency_ms": _pcts(lat["displayed"]),
        "words_only_at_final": round(sum(w.only_at_final for w in words) / len(words), 3) if words else None,
        "endpoint_to_final_ms": _pcts([v for r in runs for v in r.endpoint_to_final_ms]),
        "endpoint_to_revised_asr_ms": _pcts([v for r in runs for v in r.revision_ms]),
        "revised_asr": {k: sum(r.revision_status.count(k) for r in runs)
                        for k in sorted({s for r in runs for s in r.revision_status})},
        "wall_s_per_audio_s": None,
    }


def run_peer_bench(out_path: Path, config_path: str | None = None, per_lang: int | None = None,
                   log: Callable[[str], None] = print) -> dict[str, Any]:
    from faster_whisper import WhisperModel

    from rtt.audio.files import load_audio_file
    from rtt.bench.speech import fleurs_clips
    from rtt.config import load_config
    from rtt.pipeline.components import Components

    config = load_config(config_path)
    peer_modules()  # fail before loading anything when the peer is missing
    components = Components.load(config)
    components.prewarm(asr=True, mt=True)
    engine = components.asr
    threads = int(getattr(engine, "threads", 2))
    model_dir = components.store.resolve(config.asr.model)
    peer_model = WhisperModel(str(model_dir), device="cpu", compute_type=config.asr.compute_type, cpu_threads=threads)
    clips = fleurs_clips(per_lang)
    by_id = {c.clip_id: c for c in clips}
    audio = {c.clip_id: load_audio_file(c.audio) for c in clips}
    refs = {c.clip_id: offline_words(peer_model, c, audio[c.clip_id]) for c in clips}
    runs: dict[str, list[ClipRun]] = {"rtt": [], "whisperlivekit": []}
    for i, c in enumerate(clips):
        arms = [("rtt", lambda c=c: run_rtt_clip(components, c, audio[c.clip_id])),
                ("whisperlivekit", lambda c=c: run_peer_clip(peer_model, c, audio[c.clip_id]))]
        for name, arm in (arms if i % 2 == 0 else arms[::-1]):
            run = arm()
            runs[name].append(run)
            log(f"{c.clip_id} [{name}] {normalize_text(run.standing)[:80]}")
    audio_s = sum(len(a) / PIPELINE_RATE + TRAILING_SILENCE_S for a in audio.values())
    result: dict[str, Any] = {
        "machine": machine(),
        "peer": {"package": f"whisperlivekit=={PEER_VERSION}", "policy": "LocalAgreement-2 (OnlineASRProcessor)",
                 "backend": "faster-whisper, beam 5, word timestamps, condition_on_previous_text",
                 "buffer_trimming": "segment, 15 s", "vad": "none (its VAC needs torch)",
                 "min_chunk_s": PEER_MIN_CHUNK_S},
        "model": {"name": config.asr.model, "dir": str(model_dir), "compute_type": config.asr.compute_type,
                  "threads": threads},
        "rtt": {"beam_size_partial": config.asr.beam_size_partial, "beam_size_final": config.asr.beam_size_final,
                "refine_transcripts": config.asr.refine_transcripts, "beam_size_refine": config.asr.beam_size_refine,
                "commit_guards": config.asr.commit_guards, "refine_tier": config.mt.refine_tier},
        "clips": [c.clip_id for c in clips],
        "order": "alternating per clip (rtt first on even clips)",
        "systems": {},
    }
    for name, rs in runs.items():
        summary = _summary(rs, refs, by_id)
        summary["wall_s_per_audio_s"] = round(sum(r.wall_s for r in rs) / audio_s, 3)
        summary["per_clip"] = [{"clip": r.clip, "final": r.final, "standing": r.standing} for r in rs]
        result["systems"][name] = summary
    write_json(out_path, result)
    out_path.with_suffix(".md").write_text(render_markdown(result))
    components.close()
    return result


def render_markdown(result: dict[str, Any]) -> str:
    s, p = result["systems"]["rtt"], result["systems"]["whisperlivekit"]

    def ratio(a: float | None, b: float | None) -> str:
        return f"{a / b:.2f}" if a is not None and b else "–"

    def ms(d: dict[str, Any], k: str) -> str:
        return "–" if d.get(k) is None else f"{d[k] / 1000:.2f} s"

    langs = [k for k in s["wer"] if k != "all"]
    lines = [
        "# Recognition against the LocalAgreement peer",
        "",
        f"Generated by `rtt bench asr --peer whisperlivekit` from `{Path('reports/speech/peer.json')}`; "
        f"{len(result['clips'])} FLEURS clips at real-time pace, one system at a time, "
        f"{result['order']}. Model: `{result['model']['name']}` ({result['model']['compute_type']}, "
        f"{result['model']['threads']} threads) for both. Peer: {result['peer']['package']}, "
        f"{result['peer']['policy']}, {result['peer']['backend']}, VAD {result['peer']['vad']}.",
        "",
        "| | rtt | peer | rtt / peer |",
        "|---|---|---|---|",
        f"| WER standing (pooled) | {s['wer']['all']['standing']:.3f} | {p['wer']['all']['standing']:.3f} | "
        f"{ratio(s['wer']['all']['standing'], p['wer']['all']['standing'])} |",
        f"| WER live final (pooled) | {s['wer']['all']['final']:.3f} | {p['wer']['all']['final']:.3f} | "
        f"{ratio(s['wer']['all']['final'], p['wer']['all']['final'])} |",
    ]
    for lang in langs:
        lines.append(f"| WER {lang} standing / final | {s['wer'][lang]['standing']:.3f} / {s['wer'][lang]['final']:.3f} | "
                     f"{p['wer'][lang]['standing']:.3f} | {ratio(s['wer'][lang]['standing'], p['wer'][lang]['standing'])} |")
    cl, pl = s["committed_word_latency_ms"], p["committed_word_latency_ms"]
    cd, pd = s["first_display_latency_ms"], p["first_display_latency_ms"]
    lines += [
        f"| committed-word latency p50 / p95 | {ms(cl, 'p50')} / {ms(cl, 'p95')} | {ms(pl, 'p50')} / {ms(pl, 'p95')} | "
        f"{ratio(cl['p50'], pl['p50'])} / {ratio(cl['p95'], pl['p95'])} |",
        f"| first display p50 / p95 | {ms(cd, 'p50')} / {ms(cd, 'p95')} | {ms(pd, 'p50')} / {ms(pd, 'p95')} | "
        f"{ratio(cd['p50'], pd['p50'])} / {ratio(cd['p95'], pd['p95'])} |",
        f"| words confirmed only at the final | {s['words_only_at_final']} | {p['words_only_at_final']} | |",
        f"| endpoint → final p50 / p95 | {ms(s['endpoint_to_final_ms'], 'p50')} / "
        f"{ms(s['endpoint_to_final_ms'], 'p95')} | – | |",
        f"| endpoint → revised_asr p50 / p95 | {ms(s['endpoint_to_revised_asr_ms'], 'p50')} / "
        f"{ms(s['endpoint_to_revised_asr_ms'], 'p95')} | – | |",
        f"| revised_asr outcomes | {', '.join(f'{k} {v}' for k, v in s['revised_asr'].items()) or '–'} | – | |",
        f"| wall s per audio s | {s['wall_s_per_audio_s']} | {p['wall_s_per_audio_s']} | |",
        "",
        "Latencies are from the end of each word in the audio (one offline beam-5 decode with word "
        "timestamps per clip) to when it was committed / first shown, on each stream's clock; only words "
        "that match the offline decode count. rtt's *standing* transcript is its final after the "
        "refinement pass's second decode (`revised_asr`); the peer has no second pass (its final is what "
        "stands). rtt runs its whole live session (MT and the refinement pass included) on the same two "
        "cores; the peer runs ASR only.",
        "",
    ]
    return "\n".join(lines)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("asr", help="recognition against a peer on the same Whisper model (FLEURS, real time)")
    p.add_argument("--peer", choices=["whisperlivekit"], required=True)
    p.add_argument("--config", help="rtt config (default: the packaged default)")
    p.add_argument("--per-lang", type=int, help="clips per language (default: all 23)")
    p.add_argument("--out", type=Path, default=REPO / "reports" / "speech" / "peer.json")
    p.set_defaults(func=_cli)


def _cli(args: argparse.Namespace) -> int:
    run_peer_bench(args.out, args.config, args.per_lang)
    print(f"wrote {args.out} and {args.out.with_suffix('.md')}")
    return 0

