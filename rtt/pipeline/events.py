"""What a :class:`~rtt.pipeline.session.Session` emits.  Plain dataclasses: the service maps them
onto its versioned wire messages, the evaluation runners read them directly.

Times are milliseconds on the session's monotonic clock (0 = session start); ``utterance_id``
counts utterances (speech segments or text sentences) from 0 within a session.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class WordTiming:
    """A transcript word on the session clock (ms since the session's first sample), the
    timeline subtitles and clients use."""

    text: str
    start_ms: float
    end_ms: float
    probability: float | None = None


@dataclass(frozen=True)
class TargetWord:
    text: str
    source_read: int  # source words read when this word was committed (for AL)
    emitted_ms: float


@dataclass(frozen=True)
class SpeechStarted:
    utterance_id: int
    at_ms: float


@dataclass(frozen=True)
class SpeechStopped:
    utterance_id: int
    at_ms: float  # the VAD endpoint: latency to the final translation is measured from here


@dataclass(frozen=True)
class PartialAsr:
    utterance_id: int
    committed: str  # never changes afterwards
    tentative: str  # may be revised
    at_ms: float
    language: str | None = None

    @property
    def text(self) -> str:
        return f"{self.committed} {self.tentative}".strip()


@dataclass(frozen=True)
class FinalAsr:
    utterance_id: int
    text: str
    language: str
    start_ms: float
    end_ms: float
    at_ms: float
    words: tuple[WordTiming, ...] = ()
    # "Speaker 1", "Speaker 2", ... with diarization on (rtt/diarization/); None otherwise.
    speaker: str | None = None


@dataclass(frozen=True)
class PartialTranslation:
    utterance_id: int
    committed: str
    tentative: str
    source_read: int
    at_ms: float
    target_lang: str = ""  # a session with several targets has one stream of these per target

    @property
    def text(self) -> str:
        return f"{self.committed} {self.tentative}".strip()


@dataclass(frozen=True)
class FinalTranslation:
    utterance_id: int
    text: str
    source_text: str
    source_lang: str
    target_lang: str
    at_ms: float
    # Per-stage latency in ms: e.g. {"vad": .., "asr": .., "mt": .., "endpoint_to_final": ..}
    latency_ms: dict[str, float] = field(default_factory=dict)
    words: tuple[TargetWord, ...] = ()
    # Where the utterance is in the audio stream (ms from the first sample; None for text input):
    # subtitles need it when there is no FinalAsr (direct speech translation).
    audio_start_ms: float | None = None
    audio_end_ms: float | None = None
    # A refinement pass will follow with a RevisedTranslation of this utterance.
    revision_pending: bool = False
    # What it cost (usage metering): the tier that wrote it and the MT tokens of all its steps
    # (prompt tokens not served from a cache, plus generated ones).
    tier: str = ""
    tokens: int = 0
    speaker: str | None = None  # as on the utterance's FinalAsr


@dataclass(frozen=True)
class RevisedTranslation:
    """The refinement pass's word on a delivered final: exactly one follows each final with
    ``revision_pending``.  ``status``: ``revised`` (``text`` replaces the final), ``unchanged``
    (the better model agreed) or ``skipped`` (not refined: load, shutdown or an engine error;
    ``text`` is the delivered final)."""

    utterance_id: int
    text: str
    previous_text: str
    status: str
    at_ms: float
    # e.g. {"final_to_revision": .., "endpoint_to_revision": .., "refine_wall": ..}
    latency_ms: dict[str, float] = field(default_factory=dict)
    engine: str = ""
    reason: str = ""  # why it was skipped
    tier: str = ""  # the refinement tier, when it ran
    tokens: int = 0  # MT tokens the refinement spent (as FinalTranslation.tokens)
    target_lang: str = ""


@dataclass(frozen=True)
class RevisedAsr:
    """The refinement pass's second decode of a final transcript (speech input only): exactly one
    follows each ``FinalAsr`` whose translation has ``revision_pending``, before that
    translation's :class:`RevisedTranslation`.  ``status`` as there: ``revised`` (``text``
    replaces the final transcript, and the revised translation is made from it), ``unchanged``
    or ``skipped`` (``reason`` says why; ``text`` is the final's)."""

    utterance_id: int
    text: str
    previous_text: str
    status: str
    at_ms: float
    latency_ms: dict[str, float] = field(default_factory=dict)  # e.g. {"endpoint_to_revision": ..}
    language: str = ""
    reason: str = ""


def standing_text(finals: Sequence[FinalTranslation | FinalAsr],
                  revisions: Mapping[int, RevisedTranslation | RevisedAsr]) -> str:
    """What a reader sees at the end: each final's text (translation or transcript), or its
    revision's where there is one (a skipped revision carries the final's text)."""
    return " ".join(revisions[f.utterance_id].text if f.utterance_id in revisions else f.text
                    for f in finals).strip()


@dataclass(frozen=True)
class TtsAudio:
    utterance_id: int
    chunk_index: int
    pcm16: bytes  # mono little-endian
    sample_rate: int
    is_last: bool
    at_ms: float
    target_lang: str = ""


@dataclass(frozen=True)
class Notice:
    """Something the client should know once, e.g. TTS degraded to captions only."""

    code: str
    message: str
    at_ms: float


@dataclass(frozen=True)
class ErrorEvent:
    code: str
    message: str
    at_ms: float
    retry_after_ms: int | None = None


Event = (
    SpeechStarted
    | SpeechStopped
    | PartialAsr
    | FinalAsr
    | PartialTranslation
    | FinalTranslation
    | RevisedTranslation
    | RevisedAsr
    | TtsAudio
    | Notice
    | ErrorEvent
)
