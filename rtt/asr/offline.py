"""Whole-file transcription: VAD segments, each decoded once with word timestamps."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rtt.asr.base import AsrEngine, AsrWord, DecodeOptions
from rtt.audio.framing import Framer
from rtt.audio.pcm import PIPELINE_RATE
from rtt.config import VadConfig
from rtt.vad.base import Vad
from rtt.vad.endpointer import Endpointer, SegmentEnd, SegmentStart


@dataclass
class Segment:
    start_s: float
    end_s: float
    text: str
    language: str
    words: list[AsrWord] = field(default_factory=list)  # times relative to the file start


def speech_segments(audio: np.ndarray, vad: Vad, config: VadConfig) -> list[tuple[int, int]]:
    """(start, end) sample ranges of the utterances the live endpointer would cut."""
    ep = Endpointer(config, vad.frame_samples, vad.sample_rate)
    framer = Framer(vad.frame_samples)
    spans: list[tuple[int, int]] = []
    start: int | None = None
    for frame in framer.push(audio) + framer.flush():
        for e in ep.process(frame, vad.probability(frame)):
            if isinstance(e, SegmentStart):
                start = e.start_sample
            elif isinstance(e, SegmentEnd) and start is not None:
                spans.append((start, e.speech_end_sample))
                start = None
    for e in ep.flush():
        if isinstance(e, SegmentEnd) and start is not None:
            spans.append((start, e.speech_end_sample))
    return spans


def transcribe_audio(
    audio: np.ndarray,
    engine: AsrEngine,
    vad: Vad,
    vad_config: VadConfig,
    language: str | None = None,
    task: str = "transcribe",
    beam_size: int = 1,
    allowed_languages: tuple[str, ...] = (),
) -> list[Segment]:
    out: list[Segment] = []
    context = ""
    for a, b in speech_segments(audio, vad, vad_config):
        opts = DecodeOptions(language=language, task=task, beam_size=beam_size, prompt=context,  # type: ignore[arg-type]
                             word_timestamps=True, allowed_languages=allowed_languages)
        r = engine.decode(audio[a:b], opts)
        if not r.text.strip() or (r.no_speech_prob > 0.6 and r.avg_logprob < -1.0):
            continue
        t0 = a / PIPELINE_RATE
        words = [AsrWord(w.text, t0 + w.start_s, t0 + w.end_s, w.probability) for w in r.words]
        out.append(Segment(t0, b / PIPELINE_RATE, r.text.strip(), r.language, words))
        # Whisper "continues" a prompt that stops mid-sentence instead of transcribing: only
        # whole sentences are context.
        ended = r.text.rstrip().endswith((".", "!", "?", "…"))
        context = " ".join(f"{context} {r.text}".split()[-40:]) if ended else ""
    return out
