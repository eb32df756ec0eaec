"""The refinement pass's second look at a finished utterance.

The live final is decoded greedily and forced to continue what partials committed: fast, but an
early mistake stays in it.  Once the final is out, the refinement pass decodes the utterance's
audio again afresh: beam search, the session's context prompt, the language the session settled
on, and no forced prefix (the LocalAgreement peer's accuracy comes from exactly that, at ~1 s a
call).  What it hears replaces the final transcript when it differs and passes the same guards
a commit does; otherwise the final stands.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rtt.asr import guards
from rtt.asr.base import AsrEngine, DecodeOptions
from rtt.asr.normalize import normalize_word


@dataclass(frozen=True)
class AsrRevision:
    text: str  # the transcript that stands now
    changed: bool  # differs from the final's words (not only in case or punctuation)
    decode_ms: float


@dataclass
class Redecode:
    """One finished utterance, ready to be decoded again in the background."""

    engine: AsrEngine
    audio: np.ndarray  # the utterance's voiced audio, as the final decoded it
    options: DecodeOptions  # beam, prompt, forced language; never a prefix
    final_text: str  # the live final's transcript
    language: str | None

    def run(self, pause: Callable[[], None] | None = None) -> AsrRevision:
        """Decode afresh; ``pause`` returns when live work leaves the cores free (a CTranslate2
        decode cannot stop midway, so it waits before it starts, not during)."""
        if pause is not None:
            pause()
        result = self.engine.decode(self.audio, self.options)
        words = result.text.split()
        usable = (bool(words) and guards.clean(words, self.language)
                  and guards.confident(result.avg_logprob, result.no_speech_prob))
        text = " ".join(words) if usable else self.final_text
        return AsrRevision(text, usable and _key(text) != _key(self.final_text), result.total_ms)


def _key(text: str) -> list[str]:
    return [k for k in (normalize_word(w) for w in text.split()) if k]
