"""The versioned wire protocol of the service, shared by the server (``serve``) and the client.

Realtime messages travel as JSON objects with a ``type`` (WebSocket text frames, SSE ``data:``
lines, REST bodies) or as their protobuf twins over gRPC.  Client messages carry an optional
``seq``: a client that retries a message after a timeout or a reconnect sends the same ``seq``
again and the server acknowledges it without processing it twice.

Parsing never raises pydantic's own errors to callers: :func:`parse_client_message` turns every
bad input into a :class:`ProtocolError` with a stable code from :data:`ERROR_CODES`.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_serializer,
    model_validator,
)

from rtt.audio.pcm import PIPELINE_RATE, SUPPORTED_RATES

PROTOCOL_VERSION = 1
# The design article's dialect (nested ``session``, ``features`` as a list, ``input_audio.data``):
# a hello with this version string is served with the design's field names (serve/wire/design.py).
DESIGN_VERSION = "2026-05-01"
SUPPORTED_VERSIONS: tuple[int | str, ...] = (PROTOCOL_VERSION, DESIGN_VERSION)
SAMPLE_RATES = SUPPORTED_RATES

# code -> (HTTP status on REST, what it means).  docs/api.md lists the same table.
ERROR_CODES: dict[str, tuple[int, str]] = {
    "MALFORMED_JSON": (400, "the message is not valid JSON"),
    "INVALID_MESSAGE": (400, "the message is not a JSON object with a type"),
    "UNKNOWN_TYPE": (400, "the message type is not part of this protocol version"),
    "MISSING_FIELD": (400, "a required field is absent"),
    "INVALID_FIELD": (400, "a field has the wrong type or value"),
    "INVALID_INPUT": (400, "the input is not acceptable"),
    "INVALID_AUDIO": (400, "audio bytes are not valid for the declared format (base64, odd PCM length)"),
    "UNSUPPORTED_AUDIO_FORMAT": (400, "encoding, sample rate or channel count is not supported"),
    "INVALID_GLOSSARY": (400, "a glossary/dictionary must be an object of string to string"),
    "INVALID_VOCABULARY": (400, "a vocabulary must be a list of short, non-empty terms"),
    "VOCABULARY_TOO_LARGE": (413, "the vocabulary has more terms or characters than recognition can take"),
    "UNSUPPORTED_LANGUAGE": (400, "a language code is unknown, or source equals target"),
    "TOO_MANY_TARGETS": (400, "target_langs lists more languages than the server takes per session"),
    "UNSUPPORTED_VERSION": (400, "the protocol version in hello is not served"),
    "EMPTY_TEXT": (400, "the text is empty"),
    "TEXT_TOO_LONG": (413, "the text is over the configured character limit"),
    "BATCH_TOO_LARGE": (413, "too many texts in one request"),
    "FRAME_TOO_LARGE": (413, "a message or audio frame is over the size limit"),
    "CLIP_TOO_LONG": (413, "an audio clip is over the duration limit"),
    "HELLO_REQUIRED": (409, "a realtime message arrived before hello"),
    "ALREADY_STARTED": (409, "hello was sent twice on one connection"),
    "SEQ_OUT_OF_ORDER": (409, "seq is lower than one already processed and was never seen"),
    "UNAUTHORIZED": (401, "no valid API key or token"),
    "FORBIDDEN": (403, "the credentials do not allow this"),
    "NOT_FOUND": (404, "no such session (or it belongs to another key)"),
    "RATE_LIMIT": (429, "a per-key limit was reached; retry after retry_after_ms"),
    "OVERLOADED": (503, "the server is at capacity; retry after retry_after_ms"),
    "NOT_READY": (503, "models are still loading"),
    "SHUTTING_DOWN": (503, "the server is draining for shutdown"),
    "IDLE_TIMEOUT": (408, "no message arrived within the idle timeout"),
    "SILENCE_TIMEOUT": (408, "audio kept arriving without speech for the silence timeout"),
    "SLOW_CONSUMER": (503, "the client did not read results fast enough"),
    "MODEL_MISSING": (503, "a model needed for this request is not installed"),
    "BACKEND_UNAVAILABLE": (503, "a backend runtime is not installed"),
    "METHOD_NOT_ALLOWED": (405, "the route does not take this HTTP method"),
    "INVALID_CONFIG": (500, "the served configuration is invalid"),
    "INTERNAL": (500, "an unexpected server error"),
}


def http_status(code: str) -> int:
    return ERROR_CODES.get(code, (500, ""))[0]


class ProtocolError(Exception):
    """A bad client message; ``code`` is one of :data:`ERROR_CODES`."""

    def __init__(self, code: str, message: str, seq: int | None = None, retry_after_ms: int | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.seq = seq
        self.retry_after_ms = retry_after_ms


# -- client -> server ----------------------------------------------------------------------------

Seq = Annotated[int, Field(ge=0, le=2**63 - 1)]
# {"term": "translation"} (src == tgt keeps a term verbatim) or {"protected": [..], "forced": {..}};
# rtt.text.glossary.Glossary.from_json validates the content.
Glossary = dict[str, str | list[str] | dict[str, str]]
# webm-opus / ogg-opus: one MediaRecorder stream cut into frames of any size, its header first.
Encoding = Literal["pcm16le", "opus", "webm-opus", "ogg-opus"]
# tts_audio's encoding: opus = each chunk a whole Ogg Opus file (browsers decode it as it is).
TtsFormat = Literal["pcm16le", "opus"]
FormalityName = Literal["default", "formal", "informal"]
Stabilization = Literal["fast", "balanced", "aggressive"]


class _Client(BaseModel):
    # Unknown fields are ignored so that a newer client still talks to an older server.
    model_config = ConfigDict(extra="ignore", strict=True)


class Features(_Client):
    vad: bool = True
    partial_results: bool = True
    tts: bool = False
    # Per-word times on final_asr.  Off by default: the alignment pass runs on the same cores
    # as the final MT step, right when both finals are due (see docs/speech.md).
    word_timestamps: bool = False
    # Refinement pass: each final_translation is followed by a revised_translation from the
    # server's refinement tier, and (speech) each final_asr by a revised_asr, the utterance
    # decoded again afresh.  None: as the server is configured (on in the default config).
    refinement: bool | None = None
    # Privacy: e-mail addresses, phone, card and IBAN numbers ([EMAIL], [PHONE], ...) and strong
    # words ("s***") masked in every transcript and translation the session sends or the server
    # retains.  None: as the server is configured (text.mask_pii / text.mask_profanity, off).
    pii_masking: bool | None = None
    profanity_masking: bool | None = None
    # Speaker labels ("Speaker 1", ...) on final_asr / final_translation and in subtitles; a new
    # utterance starts where the speaker changes.  Needs the diarization models in the store.
    diarization: bool = False


class AudioFormat(_Client):
    encoding: Encoding = "pcm16le"
    sample_rate: int = PIPELINE_RATE
    channels: int = 1


class SessionConfig(_Client):
    """What a realtime session is opened with (the body of ``hello`` and ``POST /v1/sessions``)."""

    source_lang: str = "auto"
    target_lang: str
    mode: Literal["cascade", "direct"] = "cascade"
    features: Features = Field(default_factory=Features)
    audio: AudioFormat = Field(default_factory=AudioFormat)
    policy: str | None = None
    stabilization: Stabilization | None = None
    tier: str | None = None
    formality: FormalityName | None = None
    punctuation: bool | None = None
    glossary: Glossary | None = None
    tts_voice: str | None = None
    tts_format: TtsFormat = "pcm16le"
    # Terms recognition should expect: names, products, drugs, places (at most 50).
    vocabulary: list[str] | None = None
    # Several listener languages at once (at most the server's limit, see session.created's
    # limits): every translation event says its target_lang.  The first is the primary
    # (target_lang); target_lang may be left out when this is set.
    target_langs: list[str] | None = None

    @model_validator(mode="before")
    @classmethod
    def _primary_target(cls, data: Any) -> Any:
        # target_langs alone names the targets: its first is the primary, target_lang.
        if isinstance(data, dict) and data.get("target_lang") is None:
            targets = data.get("target_langs")
            if isinstance(targets, list) and targets and isinstance(targets[0], str):
                data = {**data, "target_lang": targets[0]}
        return data


class Hello(SessionConfig):
    type: Literal["hello"]
    # Required for a new session, ignored on resume (the session keeps its languages).
    target_lang: str | None = None  # type: ignore[assignment]
    # 1, or DESIGN_VERSION for the design's dialect; others are refused with UNSUPPORTED_VERSION.
    version: int | str = PROTOCOL_VERSION
    seq: Seq | None = None
    # Set to resume a session after a reconnect (within the server's grace period).
    session_id: str | None = None
    # On resume: the highest final event_id received; later finals are sent again (all kept
    # finals when absent).
    last_event_id: Seq | None = None


class InputAudio(_Client):
    type: Literal["input_audio"]
    seq: Seq | None = None
    audio: str  # base64 of PCM16LE bytes or one Opus packet, as declared in hello.audio
    # The design's per-message format (its ``data`` field arrives here as ``audio``).  When set,
    # they must match the session's audio, except PCM16LE at another supported rate (resampled).
    format: Encoding | None = None
    sample_rate: int | None = None


class InputText(_Client):
    type: Literal["input_text"]
    seq: Seq | None = None
    text: str
    # True closes the sentence: the server emits its final translation.
    final: bool = False


ControlAction = Literal["pause", "resume", "set_target_lang", "set_dictionary", "commit", "ping", "end", "ack"]


class Control(_Client):
    type: Literal["control"]
    seq: Seq | None = None
    action: ControlAction
    target_lang: str | None = None
    dictionary: Glossary | None = None
    client_time: float | int | None = None
    # ack: every final with event_id <= this one was received (the server stops keeping them).
    event_id: Seq | None = None


ClientMessage = Annotated[Hello | InputAudio | InputText | Control, Field(discriminator="type")]
CLIENT_TYPES = ("hello", "input_audio", "input_text", "control")
_CLIENT_ADAPTER: TypeAdapter[Hello | InputAudio | InputText | Control] = TypeAdapter(ClientMessage)


def validation_error(exc: ValidationError, seq: int | None, tagged: bool = True) -> ProtocolError:
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"]]
    # A tagged union puts the message type first in the location; the field path follows.
    where = ".".join(loc[1:] if tagged and len(loc) > 1 else loc)
    kind = err["type"]
    if any(p in ("glossary", "dictionary") for p in loc):
        return ProtocolError("INVALID_GLOSSARY", f"{where}: {err['msg']}", seq)
    if any(p in ("encoding", "sample_rate", "channels", "tts_format") for p in loc):
        return ProtocolError("UNSUPPORTED_AUDIO_FORMAT", f"{where}: {err['msg']}", seq)
    if kind == "missing":
        return ProtocolError("MISSING_FIELD", f"field {where!r} is required", seq)
    return ProtocolError("INVALID_FIELD", f"{where}: {err['msg']}", seq)


def load_json(raw: str | bytes, what: str = "message") -> Any:
    """Any JSON value, or ``MALFORMED_JSON`` (never a parser's own exception, RecursionError included)."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise ProtocolError("MALFORMED_JSON", f"{what} is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError("MALFORMED_JSON", f"{what} is not valid JSON: {exc}") from None


def load_json_object(raw: str | bytes | dict[str, Any], what: str = "message") -> dict[str, Any]:
    """One JSON object, or ``MALFORMED_JSON`` / ``INVALID_MESSAGE``."""
    if isinstance(raw, dict):
        return raw
    obj = load_json(raw, what)
    if not isinstance(obj, dict):
        raise ProtocolError("INVALID_MESSAGE", f"{what} must be a JSON object")
    return obj


def parse_client_message(raw: str | bytes | dict[str, Any]) -> Hello | InputAudio | InputText | Control:
    """Parse one client message or raise :class:`ProtocolError` with a precise code."""
    obj = load_json_object(raw)
    seq = obj.get("seq") if isinstance(obj.get("seq"), int) and not isinstance(obj.get("seq"), bool) else None
    kind = obj.get("type")
    if kind is None:
        raise ProtocolError("MISSING_FIELD", "field 'type' is required", seq)
    if kind not in CLIENT_TYPES:
        raise ProtocolError("UNKNOWN_TYPE", f"unknown message type {str(kind)[:40]!r}", seq)
    try:
        msg = _CLIENT_ADAPTER.validate_python(obj)
    except ValidationError as exc:
        raise validation_error(exc, seq) from None
    if isinstance(msg, Hello):
        check_audio_format(msg.audio, seq)
    return msg


def parse_session_config(raw: str | bytes) -> SessionConfig:
    """The body of ``POST /v1/sessions`` (the fields of ``hello``)."""
    obj = load_json_object(raw or b"{}", "body")
    try:
        config = SessionConfig.model_validate(obj)
    except ValidationError as exc:
        raise validation_error(exc, None, tagged=False) from None
    check_audio_format(config.audio)
    return config


def check_audio_format(fmt: AudioFormat, seq: int | None = None) -> None:
    if fmt.channels != 1:
        raise ProtocolError("UNSUPPORTED_AUDIO_FORMAT", "only mono audio (channels=1) is accepted", seq)
    if fmt.sample_rate not in SAMPLE_RATES:
        raise ProtocolError(
            "UNSUPPORTED_AUDIO_FORMAT",
            f"sample_rate {fmt.sample_rate} is not one of {', '.join(map(str, SAMPLE_RATES))}",
            seq,
        )


def decode_base64_audio(data: str, seq: int | None = None) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError("INVALID_AUDIO", "audio is not valid base64", seq) from None


def encode_audio(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# -- server -> client ----------------------------------------------------------------------------


class _Server(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Limits(_Server):
    max_message_bytes: int
    max_audio_frame_bytes: int
    max_text_chars: int
    input_queue: int
    resume_grace_s: float
    idle_timeout_s: float
    max_target_langs: int = 1


class ServedBy(_Server):
    """Which configuration and which model files serve the session (a rolling model update
    shows here which version a session got)."""

    config: str
    config_version: int
    # model name -> the first 16 hex digits of its file's sha256 (the store's manifest)
    models: dict[str, str]
    replica: str | None = None  # the process that holds the session


class SessionCreated(_Server):
    type: Literal["session.created"] = "session.created"
    version: int | str = PROTOCOL_VERSION
    session_id: str
    resumed: bool = False
    # Highest seq processed so far: a resuming client re-sends what comes after it.
    last_seq: int | None = None
    # On resume: how many finals sent before the drop are sent again (after last_event_id).
    replayed: int | None = None
    config: SessionConfig
    limits: Limits
    server_time: float = Field(default_factory=time.time)
    # Design dialect: the feature names of hello that are on, and those this server ignored.
    features: list[str] | None = None
    ignored_features: list[str] | None = None
    served_by: ServedBy | None = None


class Ack(_Server):
    type: Literal["ack"] = "ack"
    seq: int
    duplicate: bool = False


class SpeechStarted(_Server):
    type: Literal["speech_started"] = "speech_started"
    utterance_id: int
    at_ms: float


class SpeechStopped(_Server):
    type: Literal["speech_stopped"] = "speech_stopped"
    utterance_id: int
    at_ms: float


class PartialAsr(_Server):
    type: Literal["partial_asr"] = "partial_asr"
    # The design dialect's seq: the last input seq this output accounts for (unset on version 1).
    seq: int | None = None
    utterance_id: int
    text: str
    committed: str
    tentative: str
    language: str | None = None
    at_ms: float


class Word(_Server):
    """One word of a final transcript on the session's audio clock (ms)."""

    text: str
    start_ms: float
    end_ms: float
    probability: float | None = None


class FinalAsr(_Server):
    type: Literal["final_asr"] = "final_asr"
    # The design dialect's seq: the last input seq this output accounts for (unset on version 1).
    seq: int | None = None
    # Its position in the session's outbox: a resuming client sends the highest it received
    # (hello.last_event_id) and gets every later final again.
    event_id: int | None = None
    utterance_id: int
    text: str
    language: str
    start_ms: float
    end_ms: float
    at_ms: float
    # Only with features.word_timestamps; null when not requested or not alignable.
    words: list[Word] | None = None
    # With features.diarization: "Speaker 1", "Speaker 2", ... (null otherwise).
    speaker: str | None = None


class PartialTranslation(_Server):
    type: Literal["partial_translation"] = "partial_translation"
    # The design dialect's seq: the last input seq this output accounts for (unset on version 1).
    seq: int | None = None
    utterance_id: int
    text: str
    committed: str
    tentative: str
    source_read: int
    at_ms: float
    target_lang: str | None = None


class FinalTranslation(_Server):
    type: Literal["final_translation"] = "final_translation"
    # The design dialect's seq: the last input seq this output accounts for (unset on version 1).
    seq: int | None = None
    # Its position in the session's outbox: a resuming client sends the highest it received
    # (hello.last_event_id) and gets every later final again.
    event_id: int | None = None
    utterance_id: int
    text: str
    source_text: str
    source_lang: str
    target_lang: str
    # Per-stage latency (ms), e.g. {"asr": .., "mt": .., "endpoint_to_final": ..}.
    latency_ms: dict[str, float] = Field(default_factory=dict)
    at_ms: float
    # True: a revised_translation of this utterance follows (the refinement pass).
    revision_pending: bool = False
    speaker: str | None = None  # as on the utterance's final_asr


class RevisedTranslation(_Server):
    """The refinement pass's word on a final: ``revised`` (``text`` replaces the final's text),
    ``unchanged``, or ``skipped`` (not refined; ``reason`` says why, ``text`` is the final's)."""

    type: Literal["revised_translation"] = "revised_translation"
    # The design dialect's seq: the last input seq this output accounts for (unset on version 1).
    seq: int | None = None
    # Its position in the session's outbox: a resuming client sends the highest it received
    # (hello.last_event_id) and gets every later final again.
    event_id: int | None = None
    utterance_id: int
    text: str
    previous_text: str
    status: Literal["revised", "unchanged", "skipped"]
    # e.g. {"final_to_revision": .., "endpoint_to_revision": .., "refine_wall": ..}
    latency_ms: dict[str, float] = Field(default_factory=dict)
    engine: str = ""
    reason: str = ""
    at_ms: float
    target_lang: str | None = None


class RevisedAsr(_Server):
    """The refinement pass's second decode of a final transcript (speech only; before the
    utterance's ``revised_translation``): ``revised`` (``text`` replaces the ``final_asr`` text,
    and the revised translation is made from it), ``unchanged``, or ``skipped`` (``reason``)."""

    type: Literal["revised_asr"] = "revised_asr"
    seq: int | None = None
    event_id: int | None = None
    utterance_id: int
    text: str
    previous_text: str
    status: Literal["revised", "unchanged", "skipped"]
    language: str = ""
    # e.g. {"final_to_revision": .., "endpoint_to_revision": .., "redecode": ..}
    latency_ms: dict[str, float] = Field(default_factory=dict)
    reason: str = ""
    at_ms: float


class TtsAudio(_Server):
    type: Literal["tts_audio"] = "tts_audio"
    # The design dialect's seq: the last input seq this output accounts for (unset on version 1).
    seq: int | None = None
    utterance_id: int
    chunk_index: int
    # PCM16LE mono, or with tts_format "opus" one whole Ogg Opus file; base64 in JSON.  The
    # server holds the bytes and encodes them only when it writes JSON (gRPC sends them as they
    # are); a parsed message holds the string.
    audio: str | bytes
    encoding: TtsFormat = "pcm16le"
    sample_rate: int
    is_last: bool
    at_ms: float
    target_lang: str | None = None  # which listener language this speech is in

    @field_serializer("audio", when_used="json")
    def _base64(self, audio: str | bytes) -> str:
        return encode_audio(audio) if isinstance(audio, bytes) else audio


class Notice(_Server):
    type: Literal["notice"] = "notice"
    code: str
    message: str


class Pong(_Server):
    type: Literal["pong"] = "pong"
    seq: int | None = None
    client_time: float | None = None
    server_time: float = Field(default_factory=time.time)


class Drain(_Server):
    """The input queue is filling up: pause sending for ``retry_after_ms``."""

    type: Literal["drain"] = "drain"
    reason: str
    retry_after_ms: int
    queue_depth: int


class Error(_Server):
    type: Literal["error"] = "error"
    code: str
    message: str
    retry_after_ms: int | None = None
    seq: int | None = None
    # True when the server closes the session/connection after this error.
    fatal: bool = False


class SessionEnded(_Server):
    type: Literal["session.ended"] = "session.ended"
    session_id: str
    reason: str


ServerMessage = Annotated[
    SessionCreated
    | Ack
    | SpeechStarted
    | SpeechStopped
    | PartialAsr
    | FinalAsr
    | PartialTranslation
    | FinalTranslation
    | RevisedTranslation
    | RevisedAsr
    | TtsAudio
    | Notice
    | Pong
    | Drain
    | Error
    | SessionEnded,
    Field(discriminator="type"),
]
_SERVER_ADAPTER: TypeAdapter[Any] = TypeAdapter(ServerMessage)

# Partial results may be dropped under backpressure (the newest is kept); these never are.
DROPPABLE_TYPES = frozenset({"partial_asr", "partial_translation", "speech_started", "speech_stopped", "pong"})
# Finals are kept after they were written to a connection until the client acknowledges them
# (control ``ack`` or a resume's ``last_event_id``): a write is not a delivery.
REPLAYABLE_TYPES = frozenset({"final_asr", "final_translation", "revised_translation", "revised_asr"})


def parse_server_message(raw: str | bytes | dict[str, Any]) -> Any:
    if isinstance(raw, dict):
        return _SERVER_ADAPTER.validate_python(raw)
    return _SERVER_ADAPTER.validate_json(raw)


def error_message(exc: ProtocolError, fatal: bool = False) -> Error:
    return Error(code=exc.code, message=exc.message, retry_after_ms=exc.retry_after_ms, seq=exc.seq, fatal=fatal)


# -- REST bodies ---------------------------------------------------------------------------------


class _Rest(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TranslateRequest(_Rest):
    text: str | list[str] = Field(description="one text or a batch")
    source_lang: str = "auto"
    target_lang: str
    tier: str | None = None
    dictionary: Glossary | None = Field(default=None, description="glossary: source term -> target term")
    formality: FormalityName | None = None
    punctuation: bool | None = None
    # The session features' names are accepted too (pii_masking, profanity_masking).
    mask_pii: bool | None = Field(default=None, validation_alias=AliasChoices("mask_pii", "pii_masking"))
    mask_profanity: bool | None = Field(default=None,
                                        validation_alias=AliasChoices("mask_profanity", "profanity_masking"))


class TranslationItem(_Rest):
    text: str
    source_lang: str
    detected_lang: str | None = None
    engine: str
    tier: str


class TranslateResponse(_Rest):
    version: int = PROTOCOL_VERSION
    # The design's response field: the translation of a single-text request (absent for a batch).
    translation: str | None = None
    translations: list[TranslationItem]
    # The first translation, for single-text requests.
    text: str
    detected_lang: str | None = None
    latency_ms: float


class Segment(_Rest):
    text: str
    start_ms: float
    end_ms: float
    language: str | None = None
    translation: str | None = None
    words: list[Word] | None = None  # with ?word_timestamps=true; times are clip-relative ms


class ClipResponse(_Rest):
    version: int = PROTOCOL_VERSION
    text: str  # transcript
    language: str | None = None
    translation: str | None = None
    target_lang: str | None = None
    segments: list[Segment]
    duration_s: float
    latency_ms: float


class LanguageInfo(_Rest):
    code: str
    name: str
    core: bool
    marks_formality: bool


class LanguagesResponse(_Rest):
    version: int = PROTOCOL_VERSION
    languages: list[LanguageInfo]
    tiers: list[str]
    default_tier: str


class TokenRequest(_Rest):
    ttl_s: int = Field(default=600, ge=10, le=86400)
    audience: str | None = None


class TokenResponse(_Rest):
    token: str
    expires_at: float
    audience: str


class SessionCreatedResponse(_Rest):
    session_id: str
    events_url: str
    input_url: str
    limits: Limits


class WebRtcOffer(_Rest):
    """``POST /v1/webrtc/offer``: a browser's ``pc.localDescription`` once ICE gathering is done."""

    version: int = PROTOCOL_VERSION
    type: Literal["offer"]
    sdp: str = Field(min_length=1, max_length=65536)


class WebRtcAnswer(_Rest):
    version: int = PROTOCOL_VERSION
    type: Literal["answer"] = "answer"
    sdp: str
    peer_id: str


class InputResult(_Rest):
    seq: int | None = None
    accepted: bool
    duplicate: bool = False
    error: Error | None = None


class InputResponse(_Rest):
    results: list[InputResult]


class ErrorBody(_Rest):
    error: Error
