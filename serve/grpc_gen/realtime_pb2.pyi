from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ClientMessage(_message.Message):
    __slots__ = ("seq", "has_seq", "hello", "audio", "text", "control")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    HAS_SEQ_FIELD_NUMBER: _ClassVar[int]
    HELLO_FIELD_NUMBER: _ClassVar[int]
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    CONTROL_FIELD_NUMBER: _ClassVar[int]
    seq: int
    has_seq: bool
    hello: Hello
    audio: Audio
    text: Text
    control: Control
    def __init__(self, seq: _Optional[int] = ..., has_seq: bool = ..., hello: _Optional[_Union[Hello, _Mapping]] = ..., audio: _Optional[_Union[Audio, _Mapping]] = ..., text: _Optional[_Union[Text, _Mapping]] = ..., control: _Optional[_Union[Control, _Mapping]] = ...) -> None: ...

class Hello(_message.Message):
    __slots__ = ("version", "session_id", "source_lang", "target_lang", "mode", "vad", "partial_results", "tts", "policy", "stabilization", "tier", "formality", "punctuation", "glossary_json", "tts_voice", "encoding", "sample_rate", "features_set", "word_timestamps", "refinement", "pii_masking", "profanity_masking", "vocabulary", "tts_format", "target_langs", "diarization")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_LANG_FIELD_NUMBER: _ClassVar[int]
    TARGET_LANG_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    VAD_FIELD_NUMBER: _ClassVar[int]
    PARTIAL_RESULTS_FIELD_NUMBER: _ClassVar[int]
    TTS_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    STABILIZATION_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    FORMALITY_FIELD_NUMBER: _ClassVar[int]
    PUNCTUATION_FIELD_NUMBER: _ClassVar[int]
    GLOSSARY_JSON_FIELD_NUMBER: _ClassVar[int]
    TTS_VOICE_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    FEATURES_SET_FIELD_NUMBER: _ClassVar[int]
    WORD_TIMESTAMPS_FIELD_NUMBER: _ClassVar[int]
    REFINEMENT_FIELD_NUMBER: _ClassVar[int]
    PII_MASKING_FIELD_NUMBER: _ClassVar[int]
    PROFANITY_MASKING_FIELD_NUMBER: _ClassVar[int]
    VOCABULARY_FIELD_NUMBER: _ClassVar[int]
    TTS_FORMAT_FIELD_NUMBER: _ClassVar[int]
    TARGET_LANGS_FIELD_NUMBER: _ClassVar[int]
    DIARIZATION_FIELD_NUMBER: _ClassVar[int]
    version: int
    session_id: str
    source_lang: str
    target_lang: str
    mode: str
    vad: bool
    partial_results: bool
    tts: bool
    policy: str
    stabilization: str
    tier: str
    formality: str
    punctuation: int
    glossary_json: str
    tts_voice: str
    encoding: str
    sample_rate: int
    features_set: bool
    word_timestamps: bool
    refinement: int
    pii_masking: int
    profanity_masking: int
    vocabulary: _containers.RepeatedScalarFieldContainer[str]
    tts_format: str
    target_langs: _containers.RepeatedScalarFieldContainer[str]
    diarization: bool
    def __init__(self, version: _Optional[int] = ..., session_id: _Optional[str] = ..., source_lang: _Optional[str] = ..., target_lang: _Optional[str] = ..., mode: _Optional[str] = ..., vad: bool = ..., partial_results: bool = ..., tts: bool = ..., policy: _Optional[str] = ..., stabilization: _Optional[str] = ..., tier: _Optional[str] = ..., formality: _Optional[str] = ..., punctuation: _Optional[int] = ..., glossary_json: _Optional[str] = ..., tts_voice: _Optional[str] = ..., encoding: _Optional[str] = ..., sample_rate: _Optional[int] = ..., features_set: bool = ..., word_timestamps: bool = ..., refinement: _Optional[int] = ..., pii_masking: _Optional[int] = ..., profanity_masking: _Optional[int] = ..., vocabulary: _Optional[_Iterable[str]] = ..., tts_format: _Optional[str] = ..., target_langs: _Optional[_Iterable[str]] = ..., diarization: bool = ...) -> None: ...

class Audio(_message.Message):
    __slots__ = ("data",)
    DATA_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    def __init__(self, data: _Optional[bytes] = ...) -> None: ...

class Text(_message.Message):
    __slots__ = ("text", "final")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    FINAL_FIELD_NUMBER: _ClassVar[int]
    text: str
    final: bool
    def __init__(self, text: _Optional[str] = ..., final: bool = ...) -> None: ...

class Control(_message.Message):
    __slots__ = ("action", "target_lang", "dictionary_json", "client_time")
    ACTION_FIELD_NUMBER: _ClassVar[int]
    TARGET_LANG_FIELD_NUMBER: _ClassVar[int]
    DICTIONARY_JSON_FIELD_NUMBER: _ClassVar[int]
    CLIENT_TIME_FIELD_NUMBER: _ClassVar[int]
    action: str
    target_lang: str
    dictionary_json: str
    client_time: float
    def __init__(self, action: _Optional[str] = ..., target_lang: _Optional[str] = ..., dictionary_json: _Optional[str] = ..., client_time: _Optional[float] = ...) -> None: ...

class ServerMessage(_message.Message):
    __slots__ = ("created", "ack", "asr", "translation", "tts", "pong", "drain", "error", "ended", "notice", "speech")
    CREATED_FIELD_NUMBER: _ClassVar[int]
    ACK_FIELD_NUMBER: _ClassVar[int]
    ASR_FIELD_NUMBER: _ClassVar[int]
    TRANSLATION_FIELD_NUMBER: _ClassVar[int]
    TTS_FIELD_NUMBER: _ClassVar[int]
    PONG_FIELD_NUMBER: _ClassVar[int]
    DRAIN_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ENDED_FIELD_NUMBER: _ClassVar[int]
    NOTICE_FIELD_NUMBER: _ClassVar[int]
    SPEECH_FIELD_NUMBER: _ClassVar[int]
    created: SessionCreated
    ack: Ack
    asr: Asr
    translation: Translation
    tts: Tts
    pong: Pong
    drain: Drain
    error: Error
    ended: SessionEnded
    notice: Notice
    speech: Speech
    def __init__(self, created: _Optional[_Union[SessionCreated, _Mapping]] = ..., ack: _Optional[_Union[Ack, _Mapping]] = ..., asr: _Optional[_Union[Asr, _Mapping]] = ..., translation: _Optional[_Union[Translation, _Mapping]] = ..., tts: _Optional[_Union[Tts, _Mapping]] = ..., pong: _Optional[_Union[Pong, _Mapping]] = ..., drain: _Optional[_Union[Drain, _Mapping]] = ..., error: _Optional[_Union[Error, _Mapping]] = ..., ended: _Optional[_Union[SessionEnded, _Mapping]] = ..., notice: _Optional[_Union[Notice, _Mapping]] = ..., speech: _Optional[_Union[Speech, _Mapping]] = ...) -> None: ...

class SessionCreated(_message.Message):
    __slots__ = ("session_id", "resumed", "last_seq", "version", "server_time")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    RESUMED_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQ_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SERVER_TIME_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    resumed: bool
    last_seq: int
    version: int
    server_time: float
    def __init__(self, session_id: _Optional[str] = ..., resumed: bool = ..., last_seq: _Optional[int] = ..., version: _Optional[int] = ..., server_time: _Optional[float] = ...) -> None: ...

class Ack(_message.Message):
    __slots__ = ("seq", "duplicate")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    seq: int
    duplicate: bool
    def __init__(self, seq: _Optional[int] = ..., duplicate: bool = ...) -> None: ...

class Asr(_message.Message):
    __slots__ = ("utterance_id", "is_final", "text", "committed", "tentative", "language", "start_ms", "end_ms", "at_ms", "words", "revision_status", "previous_text", "reason", "latency_ms", "speaker")
    class LatencyMsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    UTTERANCE_ID_FIELD_NUMBER: _ClassVar[int]
    IS_FINAL_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    COMMITTED_FIELD_NUMBER: _ClassVar[int]
    TENTATIVE_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    START_MS_FIELD_NUMBER: _ClassVar[int]
    END_MS_FIELD_NUMBER: _ClassVar[int]
    AT_MS_FIELD_NUMBER: _ClassVar[int]
    WORDS_FIELD_NUMBER: _ClassVar[int]
    REVISION_STATUS_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_TEXT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    SPEAKER_FIELD_NUMBER: _ClassVar[int]
    utterance_id: int
    is_final: bool
    text: str
    committed: str
    tentative: str
    language: str
    start_ms: float
    end_ms: float
    at_ms: float
    words: _containers.RepeatedCompositeFieldContainer[Word]
    revision_status: str
    previous_text: str
    reason: str
    latency_ms: _containers.ScalarMap[str, float]
    speaker: str
    def __init__(self, utterance_id: _Optional[int] = ..., is_final: bool = ..., text: _Optional[str] = ..., committed: _Optional[str] = ..., tentative: _Optional[str] = ..., language: _Optional[str] = ..., start_ms: _Optional[float] = ..., end_ms: _Optional[float] = ..., at_ms: _Optional[float] = ..., words: _Optional[_Iterable[_Union[Word, _Mapping]]] = ..., revision_status: _Optional[str] = ..., previous_text: _Optional[str] = ..., reason: _Optional[str] = ..., latency_ms: _Optional[_Mapping[str, float]] = ..., speaker: _Optional[str] = ...) -> None: ...

class Word(_message.Message):
    __slots__ = ("text", "start_ms", "end_ms", "probability")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    START_MS_FIELD_NUMBER: _ClassVar[int]
    END_MS_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    text: str
    start_ms: float
    end_ms: float
    probability: float
    def __init__(self, text: _Optional[str] = ..., start_ms: _Optional[float] = ..., end_ms: _Optional[float] = ..., probability: _Optional[float] = ...) -> None: ...

class Translation(_message.Message):
    __slots__ = ("utterance_id", "is_final", "text", "committed", "tentative", "source_text", "source_lang", "target_lang", "latency_ms", "source_read", "at_ms", "revision_pending", "revision_status", "previous_text", "reason", "speaker")
    class LatencyMsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    UTTERANCE_ID_FIELD_NUMBER: _ClassVar[int]
    IS_FINAL_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    COMMITTED_FIELD_NUMBER: _ClassVar[int]
    TENTATIVE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_TEXT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_LANG_FIELD_NUMBER: _ClassVar[int]
    TARGET_LANG_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_READ_FIELD_NUMBER: _ClassVar[int]
    AT_MS_FIELD_NUMBER: _ClassVar[int]
    REVISION_PENDING_FIELD_NUMBER: _ClassVar[int]
    REVISION_STATUS_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_TEXT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SPEAKER_FIELD_NUMBER: _ClassVar[int]
    utterance_id: int
    is_final: bool
    text: str
    committed: str
    tentative: str
    source_text: str
    source_lang: str
    target_lang: str
    latency_ms: _containers.ScalarMap[str, float]
    source_read: int
    at_ms: float
    revision_pending: bool
    revision_status: str
    previous_text: str
    reason: str
    speaker: str
    def __init__(self, utterance_id: _Optional[int] = ..., is_final: bool = ..., text: _Optional[str] = ..., committed: _Optional[str] = ..., tentative: _Optional[str] = ..., source_text: _Optional[str] = ..., source_lang: _Optional[str] = ..., target_lang: _Optional[str] = ..., latency_ms: _Optional[_Mapping[str, float]] = ..., source_read: _Optional[int] = ..., at_ms: _Optional[float] = ..., revision_pending: bool = ..., revision_status: _Optional[str] = ..., previous_text: _Optional[str] = ..., reason: _Optional[str] = ..., speaker: _Optional[str] = ...) -> None: ...

class Tts(_message.Message):
    __slots__ = ("utterance_id", "chunk_index", "pcm16", "sample_rate", "is_last", "at_ms", "target_lang", "encoding", "opus")
    UTTERANCE_ID_FIELD_NUMBER: _ClassVar[int]
    CHUNK_INDEX_FIELD_NUMBER: _ClassVar[int]
    PCM16_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    IS_LAST_FIELD_NUMBER: _ClassVar[int]
    AT_MS_FIELD_NUMBER: _ClassVar[int]
    TARGET_LANG_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    OPUS_FIELD_NUMBER: _ClassVar[int]
    utterance_id: int
    chunk_index: int
    pcm16: bytes
    sample_rate: int
    is_last: bool
    at_ms: float
    target_lang: str
    encoding: str
    opus: bytes
    def __init__(self, utterance_id: _Optional[int] = ..., chunk_index: _Optional[int] = ..., pcm16: _Optional[bytes] = ..., sample_rate: _Optional[int] = ..., is_last: bool = ..., at_ms: _Optional[float] = ..., target_lang: _Optional[str] = ..., encoding: _Optional[str] = ..., opus: _Optional[bytes] = ...) -> None: ...

class Pong(_message.Message):
    __slots__ = ("seq", "client_time", "server_time")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    CLIENT_TIME_FIELD_NUMBER: _ClassVar[int]
    SERVER_TIME_FIELD_NUMBER: _ClassVar[int]
    seq: int
    client_time: float
    server_time: float
    def __init__(self, seq: _Optional[int] = ..., client_time: _Optional[float] = ..., server_time: _Optional[float] = ...) -> None: ...

class Drain(_message.Message):
    __slots__ = ("reason", "retry_after_ms", "queue_depth")
    REASON_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_MS_FIELD_NUMBER: _ClassVar[int]
    QUEUE_DEPTH_FIELD_NUMBER: _ClassVar[int]
    reason: str
    retry_after_ms: int
    queue_depth: int
    def __init__(self, reason: _Optional[str] = ..., retry_after_ms: _Optional[int] = ..., queue_depth: _Optional[int] = ...) -> None: ...

class Error(_message.Message):
    __slots__ = ("code", "message", "retry_after_ms", "has_seq", "seq", "fatal")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_MS_FIELD_NUMBER: _ClassVar[int]
    HAS_SEQ_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    FATAL_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    retry_after_ms: int
    has_seq: bool
    seq: int
    fatal: bool
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ..., retry_after_ms: _Optional[int] = ..., has_seq: bool = ..., seq: _Optional[int] = ..., fatal: bool = ...) -> None: ...

class SessionEnded(_message.Message):
    __slots__ = ("session_id", "reason")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    reason: str
    def __init__(self, session_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class Notice(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class Speech(_message.Message):
    __slots__ = ("utterance_id", "started", "at_ms")
    UTTERANCE_ID_FIELD_NUMBER: _ClassVar[int]
    STARTED_FIELD_NUMBER: _ClassVar[int]
    AT_MS_FIELD_NUMBER: _ClassVar[int]
    utterance_id: int
    started: bool
    at_ms: float
    def __init__(self, utterance_id: _Optional[int] = ..., started: bool = ..., at_ms: _Optional[float] = ...) -> None: ...
