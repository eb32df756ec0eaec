"""Recognition vocabulary: ``rtt bench vocabulary``.

The sentences of ``golden_sets/vocabulary/terms.yaml`` (rare drug, product and place names, people),
spoken by the packaged Piper voice, decoded by the served Whisper model with and without the
set's terms as the session vocabulary (the prompt :mod:`rtt.asr.vocabulary` builds), at the live
final's beam and the refinement's.  Per arm: term recall (terms spelled exactly, case-insensitive),
WER against the sentence, and how many outputs came out cut short (under 60 % of the words: the
prompt's known failure, which the live decoder answers by decoding again without the prompt).
Results: ``reports/speech/vocabulary.{json,md}``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from rtt.bench.common import machine, machine_line, write_json

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "golden_sets" / "vocabulary" / "terms.yaml"
DEFAULT_OUT = REPO / "reports" / "speech" / "vocabulary.json"


def load_items(path: Path = GOLDEN) -> list[dict[str, Any]]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return list(doc["items"])


def term_hits(text: str, terms: list[str]) -> int:
    low = text.lower()
    return sum(t.lower() in low for t in terms)


def synthesize(tts: Any, text: str) -> np.ndarray:
    """Piper's speech at the pipeline's 16 kHz."""
    from scipy.signal import resample_poly

    chunks = list(tts.stream(text, "en"))
    x = np.frombuffer(b"".join(c.pcm16 for c in chunks), "<i2").astype(np.float32) / 32768
    return np.asarray(resample_poly(x, 16000, chunks[0].sample_rate), dtype=np.float32)


def run_vocabulary_bench(out: Path = DEFAULT_OUT, config_path: str | None = None) -> dict[str, Any]:
    from rtt.asr.base import DecodeOptions
    from rtt.asr.vocabulary import vocabulary_prompt
    from rtt.asr.whisper_engine import WhisperEngine
    from rtt.config import load_config
    from rtt.metrics.wer import word_error_rate
    from rtt.models.store import ModelStore
    from rtt.tts.router import TtsRouter

    config = load_config(config_path)
    items = load_items()
    vocabulary = [t for it in items for t in it["terms"]]
    prompt = vocabulary_prompt(vocabulary)
    asr = WhisperEngine(ModelStore().resolve(config.asr.model), config.asr.compute_type, config.asr.threads)
    tts = TtsRouter(config.tts)
    audio = {it["id"]: synthesize(tts, it["text"]) for it in items}
    arms: dict[str, Any] = {}
    rows = []
    for beam in dict.fromkeys((config.asr.beam_size_final, config.asr.beam_size_refine)):
        for name, p in (("none", ""), ("vocabulary", prompt)):
            hyps = []
            for it in items:
                text = asr.decode(audio[it["id"]], DecodeOptions(language="en", beam_size=beam, prompt=p)).text
                hyps.append(text)
                rows.append({"id": it["id"], "beam": beam, "arm": name, "text": text,
                             "hits": term_hits(text, it["terms"]), "terms": len(it["terms"])})
            hits = sum(term_hits(h, it["terms"]) for h, it in zip(hyps, items, strict=True))
            short = sum(len(h.split()) < 0.6 * len(it["text"].split()) for h, it in zip(hyps, items, strict=True))
            arms[f"{name}@beam{beam}"] = {
                "arm": name, "beam": beam, "term_recall": round(hits / len(vocabulary), 3), "terms_found": hits,
                "wer": round(word_error_rate([it["text"] for it in items], hyps), 3), "short_outputs": short}
    result = {"benchmark": "vocabulary", "machine": machine(), "golden_set": str(GOLDEN.relative_to(REPO)),
              "model": config.asr.model, "voice": config.tts.piper_model, "sentences": len(items),
              "terms": len(vocabulary), "prompt": prompt, "arms": arms, "rows": rows}
    write_json(out, result)
    out.with_suffix(".md").write_text(render_markdown(result), encoding="utf-8")
    return result


def render_markdown(r: dict[str, Any]) -> str:
    lines = [
        "# Recognition vocabulary (`rtt bench vocabulary`)", "",
        f"Generated from `vocabulary.json`; do not edit. {r['sentences']} sentences of `{r['golden_set']}` with"
        f" {r['terms']} rare terms, spoken by Piper (`{r['voice']}`), decoded by `{r['model']}` with and without"
        " the terms as the session vocabulary (one decode of the whole sentence).", "",
        "| arm | beam | term recall | terms found | WER | outputs cut short |", "|---|---|---|---|---|---|",
    ]
    for a in r["arms"].values():
        lines.append(f"| {a['arm']} | {a['beam']} | {a['term_recall']:.2f} | {a['terms_found']}/{r['terms']} |"
                     f" {a['wer']:.3f} | {a['short_outputs']} |")
    lines += ["", "Cut short: under 60 % of the sentence's words. The live decoder decodes such an output"
              " again without the prompt (rtt/asr/streaming.py), so the live path keeps the words and loses"
              " only the vocabulary's help on that utterance.", "",
              machine_line(r["machine"])]
    return "\n".join(lines) + "\n"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("vocabulary", help="term recall with and without a recognition vocabulary (Piper speech)")
    p.add_argument("--config")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.set_defaults(func=lambda a: (run_vocabulary_bench(a.out, a.config), print(f"wrote {a.out}"), 0)[2])
