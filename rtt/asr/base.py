"""The ASR protocol: decode one utterance's audio, optionally continuing a fixed prefix."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

Task = Literal["transcribe", "translate"]
# How much audio the encoder sees: Whisper's native 30 s window (zero-padded), or the utterance
# rounded up to whole seconds plus a margin (cheaper encoder, see reports/speech/asr_tuning.json).
Window = Literal["pad30", "fit"]


@dataclass(frozen=True)
class AsrWord:
    """A word as the engine saw it: seconds from the start of the audio it decoded. The session
    turns it into a :class:`rtt.pipeline.events.WordTiming` on the session clock."""

    text: str
    start_s: float
    end_s: float
    probability: float | None = None


@dataclass(frozen=True)
class DecodeOptions:
    language: str | None = None  # None: detect
    allowed_languages: tuple[str, ...] = ()  # restricts detection (the languages the product serves)
    task: Task = "transcribe"
    beam_size: int = 1
    prompt: str = ""  # earlier context (previous utterances), conditions but is not output
    prefix: str = ""  # text the output must start with (committed words), decoded in one pass
    window: Window = "fit"
    word_timestamps: bool = False
    max_new_tokens: int | None = None


@dataclass
class AsrResult:
    text: str  # the full hypothesis, prefix included
    language: str
    language_probability: float
    words: list[AsrWord] = field(default_factory=list)
    no_speech_prob: float = 0.0
    avg_logprob: float = 0.0
    encode_ms: float = 0.0
    decode_ms: float = 0.0
    align_ms: float = 0.0
    audio_s: float = 0.0
    # Engine-private state of this decode (the encoder output), so that word alignment for a
    # final does not run the encoder again.
    handle: Any = field(default=None, repr=False, compare=False)

    @property
    def total_ms(self) -> float:
        return self.encode_ms + self.decode_ms + self.align_ms


@runtime_checkable
class AsrEngine(Protocol):
    name: str
    sample_rate: int

    def decode(self, audio: np.ndarray, options: DecodeOptions) -> AsrResult:
        """Decode 16 kHz float32 audio (one utterance, at most 30 s). Thread-safe."""
        ...

    def align(self, result: AsrResult) -> list[AsrWord]:
        """Word timestamps for the text of an earlier ``decode`` result."""
        ...

    def detect_language(self, audio: np.ndarray, allowed: tuple[str, ...] = ()) -> tuple[str, float]: ...

    def close(self) -> None: ...
