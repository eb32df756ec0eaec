"""Sentence punctuation: removed from outputs when ``punctuation=off``, and restored (roughly)
on lower-case unpunctuated ASR transcripts when ``punctuation=on``.

Stripping only touches punctuation at the edges of words, and never inside protected spans
(URLs, e-mail addresses, numbers, masks, placeholders), so ``3.5``, ``www.acme.io`` and
``Node.js`` survive while the full stop after them does not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rtt.text.formatting import find_formatting
from rtt.text.masking import MASK_RE
from rtt.text.spans import Span

SENTENCE_PUNCTUATION = frozenset('.,;:!?¡¿…"“”„«»‹›()[]{}')
_DASHES = frozenset({"-", "–", "—", "--"})

QUESTION_STARTS: dict[str, frozenset[str]] = {
    "en": frozenset({
        "what", "who", "whom", "whose", "where", "when", "why", "how", "which", "is", "are", "am", "was",
        "were", "do", "does", "did", "can", "could", "would", "will", "should", "shall", "may", "have",
        "has", "had", "isn't", "aren't", "don't", "doesn't", "didn't", "won't", "can't", "shouldn't",
    }),
    "es": frozenset({
        "qué", "quién", "quiénes", "dónde", "adónde", "cuándo", "cómo", "cuál", "cuáles", "cuánto",
        "cuánta", "cuántos", "cuántas", "por qué",
    }),
    "de": frozenset({
        "was", "wer", "wen", "wem", "wessen", "wo", "wann", "warum", "wie", "welche", "welcher",
        "welches", "woher", "wohin", "weshalb", "wieso", "ist", "sind", "bist", "hast", "habt", "haben",
        "kann", "kannst", "können", "gibt", "wird", "werden", "willst", "möchtest", "darf", "soll",
    }),
    "fr": frozenset({
        "qu'est-ce", "qui", "où", "quand", "comment", "pourquoi", "quel", "quelle", "quels", "quelles",
        "combien", "est-ce", "lequel", "laquelle",
    }),
}  # fmt: skip

_ENGLISH_I = re.compile(r"(?<![\w'’])i(?=(?:['’](?:m|ve|ll|d)\b)|(?![\w'’]))")


def strip_punctuation(text: str, keep: Sequence[Span] | None = None) -> str:
    """Remove sentence punctuation at word edges, outside the ``keep`` spans.

    With ``keep=None`` the protected spans are found here (formatting spans and PII masks).
    """
    if keep is None:
        keep = list(find_formatting(text))
        keep += [Span(m.start(), m.end(), "mask", m.group(0), m.group(0)) for m in MASK_RE.finditer(text)]
    protected = bytearray(len(text))
    for span in keep:
        protected[span.start : span.end] = b"\x01" * (span.end - span.start)
    words = []
    for m in re.finditer(r"\S+", text):
        start, end = m.start(), m.end()
        if m.group(0) in _DASHES and not protected[start]:
            continue
        while start < end and text[start] in SENTENCE_PUNCTUATION and not protected[start]:
            start += 1
        while end > start and text[end - 1] in SENTENCE_PUNCTUATION and not protected[end - 1]:
            end -= 1
        if start < end:
            words.append(text[start:end])
    return " ".join(words)


def restore_punctuation(text: str, lang: str) -> str:
    """Capitalise sentence starts and add the final mark to an ASR-like transcript.

    Text that already ends with terminal punctuation keeps it; a lower-case unpunctuated
    transcript becomes one sentence ending in "." or, when it opens with a question word, "?"
    (with "¿" in Spanish).  English "i" becomes "I".
    """
    text = " ".join(text.split())
    if not text:
        return ""
    if lang == "en":
        text = _ENGLISH_I.sub("I", text)
    if text[-1] not in ".!?…":
        if _is_question(text, lang):
            text += "?"
            if lang == "es" and not text.startswith("¿"):
                text = "¿" + text
        else:
            text += "."
    return _capitalise_sentences(text)


def _is_question(text: str, lang: str) -> bool:
    starts = QUESTION_STARTS.get(lang, frozenset())
    words = text.lower().lstrip("¿¡\"'“«(").split()
    return bool(words) and (words[0] in starts or " ".join(words[:2]) in starts)


def _capitalise_sentences(text: str) -> str:
    chars = list(text)
    capitalise = True
    for i, ch in enumerate(chars):
        if capitalise and ch.isalpha():
            chars[i] = ch.upper()
            capitalise = False
        elif capitalise and ch.isdigit():
            capitalise = False
        elif ch in ".!?" and (i + 1 == len(chars) or chars[i + 1] == " "):
            capitalise = True
    return "".join(chars)
