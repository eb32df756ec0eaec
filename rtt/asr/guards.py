"""What a streaming hypothesis may commit.

Committed words are forced onto every later decode of the utterance, so one wrong early commit
poisons the rest of it (measured against the LocalAgreement peer: an English "For" committed 1 s
into a German utterance turned it into "For the best best of the best of 香港 ..."). These checks
decide how many words of a new hypothesis tail may be committed; the rest stays tentative until
more audio agrees or the final decides.

* **script**: a word whose letters are not in the session language's script (Han characters in
  a ``de`` session) is never committed;
* **loops**: a word repeated back to back ("re re"), a repeated run, or a hypothesis that
  compresses too well (Whisper's loop on cut audio; the compression-ratio test of Whisper's own
  fallback) stops commits where the repetition starts;
* **language**: the first commit of an utterance waits while the hypothesis reads as another
  language than the session's (text language ID on 3+ words);
* **confidence**: a decode with a low average log-probability or a high no-speech probability
  commits nothing.
"""

from __future__ import annotations

import unicodedata
import zlib
from collections.abc import Sequence

from rtt.asr.normalize import normalize_word
from rtt.languages import LANGUAGES

# Whisper's own thresholds for falling back to a sampled decode (compression ratio, log-prob).
MAX_COMPRESSION_RATIO = 2.4
MIN_AVG_LOGPROB = -1.0
MAX_NO_SPEECH_PROB = 0.6
COMPRESSION_MIN_CHARS = 40  # below this zlib's header dominates the ratio

def letter_script(ch: str) -> str:
    """The script of a letter by its Unicode name ("LATIN SMALL LETTER A" -> "LATIN")."""
    name = unicodedata.name(ch, "")
    return name.split(" ", 1)[0] if name else ""


def in_script(word: str, language: str | None) -> bool:
    """Every letter of ``word`` belongs to the script of ``language`` (True when unknown)."""
    known = LANGUAGES.get(language or "")
    if known is None:
        return True
    return all(letter_script(c) in known.scripts for c in word if c.isalpha())


def repeat_start(words: Sequence[str], start: int = 0) -> int | None:
    """Index in ``words`` (at or after ``start``) where a back-to-back repetition begins: the same
    word twice ("best best") or the same run of 2-4 words twice ("of the of the")."""
    keys = [normalize_word(w) for w in words]
    for i in range(max(0, start - 3), len(keys)):
        for size in range(1, 5):
            a, b = keys[i:i + size], keys[i + size:i + 2 * size]
            if len(b) == size and a == b and any(a):
                return max(i, start)
    return None


def compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / max(1, len(zlib.compress(data)))


def looks_looped(text: str) -> bool:
    return len(text) >= COMPRESSION_MIN_CHARS and compression_ratio(text) > MAX_COMPRESSION_RATIO


def other_language(words: Sequence[str], language: str | None) -> bool:
    """The text confidently reads as a language other than ``language`` (False when unsure)."""
    from rtt.text.langid import reads_as_other_language

    return reads_as_other_language(words, language)


def confident(avg_logprob: float, no_speech_prob: float) -> bool:
    return avg_logprob >= MIN_AVG_LOGPROB and no_speech_prob <= MAX_NO_SPEECH_PROB


def committable(words: Sequence[str], committed: int, language: str | None,
                avg_logprob: float = 0.0, no_speech_prob: float = 0.0) -> int:
    """How many words of ``words[committed:]`` (the new tail of a full hypothesis) may commit."""
    if not confident(avg_logprob, no_speech_prob) or looks_looped(" ".join(words)):
        return 0
    if committed == 0 and other_language(words, language):
        return 0  # the word every later decode is forced to continue: not from a misheard language
    limit = len(words)
    rep = repeat_start(words, committed)
    if rep is not None:
        limit = rep
    for i in range(committed, limit):
        if not in_script(words[i], language):
            limit = i
            break
    return max(0, limit - committed)


def clean(words: Sequence[str], language: str | None) -> bool:
    """A whole hypothesis is fit to stand: no loop, no word in another script."""
    return (repeat_start(words) is None and not looks_looped(" ".join(words))
            and all(in_script(w, language) for w in words) and not other_language(words, language))


def collapse_repeats(words: Sequence[str], before: str | None = None) -> list[str]:
    """A tentative tail without back-to-back duplicates ("I I" -> "I"), nor a first word that
    repeats the last committed one (``before``)."""
    out: list[str] = []
    prev = normalize_word(before) if before else None
    for w in words:
        key = normalize_word(w)
        if key and key == prev:
            continue
        out.append(w)
        prev = key
    return out
