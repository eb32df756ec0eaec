"""Hide protected spans behind placeholders that every engine copies, and put them back.

A placeholder is three capital letters and a number (``ZXQ1``): LLM tokenizers keep it as a few
ordinary tokens and copy it, and Apertium passes it through as an unknown word (checked with
apertium-en-es 0.8: ``spa-eng`` and ``eng-spa`` keep ``ZXQ1``..``ZXQ12`` next to punctuation,
inside quotes and brackets, and at the start of a sentence).

Engines still damage them a little, so restoration accepts a changed case (``zxq1``), spaces or
``_``/``-`` inside (``ZXQ 1``), Apertium's unknown-word marks (``*ZXQ1``) and backticks around
it.  A placeholder the engine dropped is re-inserted at the same relative position, unless its
text is already in the output; a forced translation therefore always reaches the user.

Apertium capitalises the word after a sentence-initial unknown word (``ZXQ1 es`` ->
``ZXQ1 Is``); when the source word after the placeholder was lower-case, that capital is undone
(not for German targets, where nouns are capitalised).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rtt.text.spans import Span, SpanKind

_PREFIXES = ("ZXQ", "QXZ", "XQZ", "ZQX", "QZX", "XZQ")
_SENTENCE_END = ".!?…"
_OPENERS = "\"'“‘«¿¡([{"
_WORD_RE = re.compile(r"[^\W\d_][\w'’-]*")


@dataclass(frozen=True)
class Placeholder:
    number: int
    token: str  # as sent to the engine: "ZXQ1"
    kind: SpanKind
    source: str  # the source text it stands for
    replacement: str  # what the output gets in its place
    position: float  # relative position in the engine text (0..1), for re-insertion
    # The placeholder opened a sentence and the next source word was lower-case: an upper-case
    # word after it in the output is an engine artefact.
    lower_next: bool = False


@dataclass(frozen=True)
class PlaceholderState:
    prefix: str
    placeholders: tuple[Placeholder, ...] = ()

    @property
    def tokens(self) -> list[str]:
        return [p.token for p in self.placeholders]

    def pattern(self) -> re.Pattern[str] | None:
        """Matches a placeholder as an engine may write it; group ``n`` is its number."""
        if not self.placeholders:
            return None
        numbers = sorted({str(p.number) for p in self.placeholders}, key=len, reverse=True)
        letters = r"[\s_-]?".join(self.prefix)
        return re.compile(
            rf"(?P<bt>`)?[*#@]?{letters}[\s_-]?(?P<n>{'|'.join(numbers)})(?!\d)(?(bt)`)", re.IGNORECASE
        )


Render = Callable[[Placeholder, bool], str]  # (placeholder, at_sentence_start) -> text


def protect(text: str, spans: Sequence[Span]) -> tuple[str, PlaceholderState]:
    """Replace non-overlapping ``spans`` (in text order) by numbered placeholders."""
    prefix = next((p for p in _PREFIXES if p.lower() not in text.lower()), _PREFIXES[0])
    pieces: list[str] = []
    pos = 0
    pending: list[tuple[int, Span, int]] = []  # (number, span, offset in engine text)
    for number, span in enumerate(spans, start=1):
        pieces.append(text[pos : span.start])
        offset = sum(len(p) for p in pieces)
        pieces.append(f"{prefix}{number}")
        pending.append((number, span, offset))
        pos = span.end
    pieces.append(text[pos:])
    engine_text = "".join(pieces)
    length = max(len(engine_text), 1)
    placeholders = []
    for number, span, offset in pending:
        token = f"{prefix}{number}"
        placeholders.append(
            Placeholder(
                number=number,
                token=token,
                kind=span.kind,
                source=span.text,
                replacement=span.replacement,
                position=offset / length,
                lower_next=_at_sentence_start(engine_text[:offset])
                and _next_word_lower(engine_text, offset + len(token)),
            )
        )
    return engine_text, PlaceholderState(prefix, tuple(placeholders))


def placeholder_hints(state: PlaceholderState) -> tuple[str, ...]:
    """Instructions for engines that read them (LLMs); rule-based engines ignore them."""
    if not state.placeholders:
        return ()
    hints = [f"Copy the placeholders {', '.join(state.tokens)} unchanged into the translation."]
    forced: dict[tuple[str, str], list[str]] = {}
    for p in state.placeholders:
        if p.kind == "forced":
            forced.setdefault((p.source, p.replacement), []).append(p.token)
    for (source, target), tokens in forced.items():
        hints.append(f'Translate "{source}" as "{target}" (written {", ".join(tokens)}).')
    return tuple(hints)


def restore(text: str, state: PlaceholderState, render: Render, target_lang: str) -> tuple[str, set[int]]:
    """Put every placeholder found in ``text`` back; returns the text and the numbers found."""
    pattern = state.pattern()
    if pattern is None:
        return text, set()
    by_number = {p.number: p for p in state.placeholders}
    out: list[str] = []
    found: set[int] = set()
    decap_after: list[int] = []  # output offsets right after a restored placeholder
    pos = 0
    for m in pattern.finditer(text):
        out.append(text[pos : m.start()])
        placeholder = by_number[int(m.group("n"))]
        before = "".join(out)
        at_start = _at_sentence_start(before)
        out.append(render(placeholder, at_start))
        found.add(placeholder.number)
        if placeholder.lower_next and at_start and target_lang != "de":
            decap_after.append(len(before) + len(out[-1]))
        pos = m.end()
    out.append(text[pos:])
    restored = "".join(out)
    for offset in decap_after:
        restored = _lower_next_word(restored, offset)
    return restored, found


def hide_incomplete(text: str, state: PlaceholderState) -> str:
    """Cut a placeholder still being written at the end of a streamed prefix ("… ZX", "… ZXQ1"
    while ZXQ12 exists), so that the user never sees placeholder fragments."""
    if not state.placeholders:
        return text
    prefix = state.prefix
    numbers = {str(p.number) for p in state.placeholders}
    window = 2 * len(prefix) + max(len(n) for n in numbers) + 4
    for k in range(max(0, len(text) - window), len(text)):
        if (k > 0 and text[k - 1].isalnum()) or text[k].isspace():
            continue
        compact = re.sub(r"[\s_\-*#@`]", "", text[k:]).upper()
        if not compact:
            continue
        if len(compact) <= len(prefix):
            if prefix.startswith(compact):
                return text[:k].rstrip()
            continue
        digits = compact[len(prefix) :]
        if compact.startswith(prefix) and digits.isdigit():
            if any(n.startswith(digits) and n != digits for n in numbers):
                return text[:k].rstrip()
            return text
    return text


def reinsert_missing(text: str, state: PlaceholderState, found: set[int], render: Render) -> str:
    """Insert the text of each placeholder the engine dropped, unless it is already there."""
    words = text.split()
    for p in state.placeholders:
        if p.number in found:
            continue
        value = render(p, False)
        if _contains(" ".join(words), value) or _contains(" ".join(words), p.source):
            continue
        index = _outside_terms(words, min(len(words), round(p.position * len(words))), state, render)
        if index == 0 and words:
            value = render(p, True)
        words.insert(index, value)
    return " ".join(words)


def _outside_terms(words: list[str], index: int, state: PlaceholderState, render: Render) -> int:
    """Move an insertion point out of a multi-word term already in the text ("Good morning"),
    so a re-inserted term never splits another."""
    joined = " ".join(words)
    boundary = len(" ".join(words[:index]))
    for other in state.placeholders:
        value = render(other, False).strip()
        if " " not in value:
            continue
        for m in re.finditer(rf"(?<!\w){re.escape(value)}(?!\w)", joined, re.IGNORECASE):
            if m.start() < boundary < m.end():
                return len(joined[: m.end()].split())
    return index


def _contains(text: str, value: str) -> bool:
    value = value.strip()
    if not value:
        return True
    return re.search(rf"(?<!\w){re.escape(value)}(?!\w)", text, re.IGNORECASE) is not None


def _at_sentence_start(before: str) -> bool:
    stripped = before.rstrip().rstrip(_OPENERS).rstrip()
    return not stripped or stripped[-1] in _SENTENCE_END


def _next_word_lower(text: str, offset: int) -> bool:
    m = re.match(r"[\s,;:]*([^\W\d_])", text[offset:])
    return m is not None and m.group(1).islower()


def _lower_next_word(text: str, offset: int) -> str:
    m = re.match(r"[\s,;:]*", text[offset:])
    start = offset + (m.end() if m else 0)
    w = _WORD_RE.match(text, start)
    if w is None:
        return text
    word = w.group(0)
    # Only a capitalised ordinary word ("Is", "Es"); not "I", acronyms or mixed case ("iPhone").
    if len(word) > 1 and word[0].isupper() and word[1:] == word[1:].lower():
        return text[:start] + word[0].lower() + word[1:] + text[w.end() :]
    return text
