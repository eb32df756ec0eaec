"""Word normalisation for comparing hypotheses (LocalAgreement) and scoring (WER)."""

from __future__ import annotations

import re
import unicodedata

_SPACE = re.compile(r"\s+")


def strip_punctuation(text: str) -> str:
    return "".join(" " if unicodedata.category(c).startswith("P") else c for c in text)


def normalize_word(word: str) -> str:
    """Case- and punctuation-insensitive key: "Pedro." and "pedro" agree."""
    return strip_punctuation(word).strip().casefold()


def normalize_text(text: str) -> str:
    """For WER against FLEURS' lowercase, unpunctuated transcripts."""
    return _SPACE.sub(" ", strip_punctuation(unicodedata.normalize("NFC", text)).casefold()).strip()


def drop_repetition(text: str) -> str:
    """Cut a hypothesis at its first verbatim loop, keeping the first copy.

    Whisper on truncated audio sometimes emits "a b. a b. a b" or "a b c d, a b c d": a run of
    2+ words repeated twice and starting a third time (or cut off: "a b a b a"), or of 4+ words
    repeated twice, is taken as such a loop (read speech practically never does either).
    """
    words = text.split()
    n = len(words)
    keys = [normalize_word(w) for w in words]
    for start in range(n):
        for size in range(2, (n - start) // 2 + 1):
            a = keys[start : start + size]
            if a != keys[start + size : start + 2 * size]:
                continue
            third = keys[start + 2 * size : start + 3 * size]
            if size >= 4 or (third and third == a[: len(third)]):
                return " ".join(words[: start + size])
    # A loop cut off by the token budget: the hypothesis ends with a copy of an earlier run of
    # 4+ words ("A B C D E. A B C").
    for p in range(1, n - 3):
        tail = keys[p:]
        if any(keys[q : q + len(tail)] == tail for q in range(0, p - len(tail) + 1)):
            return " ".join(words[:p])
    return text
