"""What a client chooses for one session (see docs/session-api.md): the one record of it.

Every wire form (the WebSocket hello in both dialects, ``POST /v1/sessions``, gRPC ``Hello``,
the REST clip endpoints) maps onto :class:`SessionOptions` by field name in
``serve/wire/options.py``, and :meth:`SessionOptions.validate` is the only validator.  A field
left ``None`` takes the served configuration's value (:meth:`SessionOptions.with_defaults`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from rtt.asr.vocabulary import check_vocabulary
from rtt.audio.decoder import AUDIO_FORMATS
from rtt.audio.pcm import PIPELINE_RATE, check_rate
from rtt.errors import InvalidInput
from rtt.languages import AUTO, get_language
from rtt.policies.factory import parse_policy_name

if TYPE_CHECKING:
    from rtt.config import RttConfig

Mode = Literal["cascade", "direct"]
FORMALITIES = ("default", "formal", "informal")
TTS_FORMATS = ("pcm16le", "opus")
# The most listener languages one session may ask for, whatever the configuration says
# (config ``mt.max_targets`` may lower it): each target is a live MT stream on the same cores.
MAX_TARGETS = 8


@dataclass
class SessionOptions:
    source_lang: str = AUTO
    target_lang: str = "en"
    # Several listener languages (one VAD+ASR stream, one simultaneous MT stream per target);
    # () = just target_lang.  When set it is the list of targets and target_lang is its first.
    target_langs: tuple[str, ...] = ()
    mode: Mode = "cascade"
    policy: str | None = None  # None: config policy.name
    stabilization: str | None = None  # None: config policy.stabilization
    tier: str | None = None
    glossary: Any = None  # rtt.text.glossary.Glossary | None
    formality: str | None = None  # None: config text.formality
    punctuation: bool | None = None  # None: config text.punctuation
    partial_results: bool = True
    tts: bool = False
    tts_voice: str | None = None  # "piper" | "espeak" | None (the configured voice); other names fall back
    # tts_audio as PCM16LE, or "opus": each chunk a whole Ogg Opus file (rtt/audio/opus_encode.py).
    tts_format: str = "pcm16le"
    vad: bool = True
    sample_rate: int = PIPELINE_RATE
    audio_format: str = "pcm16le"
    # Per-word times on FinalAsr.  Off by default: the alignment pass runs on the same cores as
    # the final MT step, right when both finals are due (docs/speech.md).
    word_timestamps: bool = False
    asr_context: bool = True  # condition Whisper on the previous utterance of the same language
    # Terms recognition should expect (rtt/asr/vocabulary.py); the glossary's sources join them.
    vocabulary: tuple[str, ...] = ()
    # Refinement pass (config `mt.refine_tier`): None = as configured, False = off for this session.
    refinement: bool | None = None
    # Mask e-mails, phone, card and IBAN numbers / strong words in everything the session emits
    # (transcripts, translations, and so what is retained); None = config text.mask_pii /
    # text.mask_profanity (rtt/pipeline/privacy.py).
    pii_masking: bool | None = None
    profanity_masking: bool | None = None
    # Speaker labels on finals (rtt/diarization/): who spoke each utterance, and a new utterance
    # where the speaker changes.
    diarization: bool = False

    @property
    def targets(self) -> tuple[str, ...]:
        """Every listener language, the primary first."""
        return self.target_langs or (self.target_lang,)

    def with_defaults(self, config: RttConfig) -> SessionOptions:
        """A copy with every ``None`` that the configuration decides filled in."""
        return dataclasses.replace(
            self,
            policy=self.policy or config.policy.name,
            stabilization=self.stabilization or config.policy.stabilization,
            formality=self.formality or config.text.formality,
            punctuation=config.text.punctuation if self.punctuation is None else self.punctuation,
            pii_masking=config.text.mask_pii if self.pii_masking is None else self.pii_masking,
            profanity_masking=config.text.mask_profanity if self.profanity_masking is None else self.profanity_masking,
        )

    def validate(self, max_targets: int = MAX_TARGETS) -> SessionOptions:
        """Check and normalize every field; ``max_targets``: the served limit on ``target_langs``."""
        if self.mode not in ("cascade", "direct"):
            raise InvalidInput(f"mode must be 'cascade' or 'direct', not {self.mode!r}", field="mode")
        if self.source_lang != AUTO:
            self.source_lang = get_language(self.source_lang).code
        self._validate_targets(min(max_targets, MAX_TARGETS))
        if self.policy is not None or self.stabilization is not None:
            parse_policy_name(self.policy or "wait-k", self.stabilization)
        if self.audio_format not in AUDIO_FORMATS:
            raise InvalidInput(
                f"audio format {self.audio_format!r} is not supported; use one of {', '.join(AUDIO_FORMATS)}",
                code="UNSUPPORTED_AUDIO_FORMAT",
                field="audio_format",
            )
        check_rate(self.sample_rate)
        if self.tts_format not in TTS_FORMATS:
            raise InvalidInput(f"tts_format must be one of {', '.join(TTS_FORMATS)}, not {self.tts_format!r}",
                               code="UNSUPPORTED_AUDIO_FORMAT", field="tts_format")
        self.diarization = bool(self.diarization)
        self.vocabulary = check_vocabulary(self.vocabulary)
        if self.formality is not None and self.formality not in FORMALITIES:
            raise InvalidInput("formality must be default, formal or informal", field="formality")
        return self

    def _validate_targets(self, limit: int) -> None:
        if self.target_langs is None:  # the wire's "not set"
            self.target_langs = ()
        if not isinstance(self.target_langs, list | tuple) or not all(isinstance(t, str) for t in self.target_langs):
            raise InvalidInput("target_langs must be a list of language codes", field="target_langs")
        codes = list(dict.fromkeys(get_language(t).code for t in self.targets))
        if len(codes) > limit:
            raise InvalidInput(f"{len(codes)} target languages; this server takes at most {limit} per session",
                               code="TOO_MANY_TARGETS", field="target_langs", limit=limit)
        for code in codes:
            if self.mode == "direct" and code != "en":
                raise InvalidInput(
                    "direct mode (Whisper speech translation) only produces English; use mode='cascade'",
                    code="UNSUPPORTED_LANGUAGE",
                    field="target_lang",
                )
            if self.source_lang == code:
                raise InvalidInput(
                    f"source and target are both {code!r}", code="UNSUPPORTED_LANGUAGE", field="target_lang"
                )
        self.target_lang = codes[0]
        self.target_langs = tuple(codes) if self.target_langs else ()  # (): just target_lang
