"""What a client chooses for one session (see docs/session-api.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from rtt.audio.decoder import AUDIO_FORMATS
from rtt.audio.pcm import check_rate
from rtt.errors import InvalidInput
from rtt.languages import AUTO, get_language

Mode = Literal["cascade", "direct"]


@dataclass
class SessionOptions:
    source_lang: str = AUTO
    target_lang: str = "en"
    mode: Mode = "cascade"
    policy: str = "wait-k"
    stabilization: str = "balanced"
    tier: str | None = None
    glossary: Any = None  # rtt.text.glossary.Glossary | None
    formality: str = "default"
    punctuation: bool = True
    partial_results: bool = True
    tts: bool = False
    tts_voice: str | None = None  # "piper" | "espeak" | None (the configured voice for the language)
    vad: bool = True
    sample_rate: int = 16000
    audio_format: str = "pcm16le"
    # Additions beyond the first contract; defaults keep its behaviour.
    word_timestamps: bool = True  # FinalAsr.words (costs one alignment pass per utterance)
    asr_context: bool = True  # condition Whisper on the previous utterance of the same language
    # Refinement pass (config `mt.refine_tier`): None = as configured, False = off for this session.
    refine: bool | None = None

    def validate(self) -> SessionOptions:
        if self.mode not in ("cascade", "direct"):
            raise InvalidInput(f"mode must be 'cascade' or 'direct', not {self.mode!r}", field="mode")
        if self.source_lang != AUTO:
            self.source_lang = get_language(self.source_lang).code
        self.target_lang = get_language(self.target_lang).code
        if self.mode == "direct" and self.target_lang != "en":
            raise InvalidInput(
                "direct mode (Whisper speech translation) only produces English; use mode='cascade'",
                code="UNSUPPORTED_LANGUAGE",
                field="target_lang",
            )
        if self.source_lang == self.target_lang:
            raise InvalidInput(
                f"source and target are both {self.source_lang!r}", code="UNSUPPORTED_LANGUAGE", field="target_lang"
            )
        if self.audio_format not in AUDIO_FORMATS:
            raise InvalidInput(
                f"audio format {self.audio_format!r} is not supported; use one of {', '.join(AUDIO_FORMATS)}",
                code="UNSUPPORTED_AUDIO",
                field="audio_format",
            )
        check_rate(self.sample_rate)
        if self.formality not in ("default", "formal", "informal"):
            raise InvalidInput("formality must be default, formal or informal", field="formality")
        return self
