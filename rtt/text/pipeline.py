"""The text policies around any MT engine, in the order they must run.

::

    prepared = prepare_source(text, options)
    output = engine.translate(prepared.text_for_engine, hints=prepared.hints)
    final = finish_target(output, prepared.state, options)

``prepare_source``: resolve ``auto`` -> mask PII -> find protected spans (PII masks, glossary
terms, formatting) -> replace them by placeholders -> build hints (placeholders, forced
translations).  PII is masked first so that it never reaches an engine and so a glossary term
inside an e-mail address cannot split the mask.  Formality is not a hint: it travels in
``MtRequest.formality`` and the prompt renders :func:`rtt.text.formality.formality_hint`, so the
instruction is written once.

``finish_target``: strip punctuation (``punctuation=off``) -> mask profanity -> restore
placeholders (localising numbers) -> re-insert placeholders the engine lost -> tidy spaces.
Punctuation and profanity run while protected spans are still placeholders, so neither can
touch a URL, a number or a glossary term.

``finish_target_prefix`` is the streaming variant for simultaneous translation: it restores
placeholders as soon as they are complete, hides one still being written, and never re-inserts
(a placeholder may still come), so each call's result extends the previous one word by word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import get_args

from rtt.errors import InvalidInput
from rtt.languages import AUTO, get_language
from rtt.mt.base import Formality
from rtt.text.formatting import CURRENCY_CODES, CURRENCY_SYMBOLS, find_formatting, localize_span
from rtt.text.glossary import Glossary
from rtt.text.langid import TextLanguageIdentifier, default_identifier
from rtt.text.masking import MASK_RE, find_pii, mask_profanity
from rtt.text.placeholders import (
    Placeholder,
    PlaceholderState,
    Render,
    hide_incomplete,
    placeholder_hints,
    protect,
    reinsert_missing,
    restore,
)
from rtt.text.punctuation import strip_punctuation
from rtt.text.spans import NUMERIC_KINDS, Span, SpanKind, apply_spans, select_spans


@dataclass(frozen=True, kw_only=True)
class TextOptions:
    source_lang: str  # a language code or "auto"
    target_lang: str
    glossary: Glossary | None = None
    formality: Formality = "default"
    punctuation: bool = True
    mask_profanity: bool = False
    mask_pii: bool = False
    localize_numbers: bool = False
    # Hide numbers, dates, amounts, URLs and e-mails behind placeholders (on by default).
    protect_formatting: bool = True

    def __post_init__(self) -> None:
        if self.formality not in get_args(Formality):
            raise InvalidInput(
                f"formality must be one of {', '.join(get_args(Formality))}",
                field="formality",
                got=self.formality,
            )
        get_language(self.target_lang)
        if self.source_lang != AUTO:
            get_language(self.source_lang)


@dataclass(frozen=True)
class TextState:
    """What ``finish_target`` needs to know about the source; opaque to callers."""

    placeholders: PlaceholderState
    source_lang: str  # resolved (the detected language when the request said "auto")


@dataclass(frozen=True)
class PreparedText:
    text_for_engine: str
    state: TextState
    hints: tuple[str, ...] = ()
    source_lang: str = AUTO  # resolved source language, for choosing the engine
    language_confidence: float | None = None  # set when the language was detected
    masked: tuple[Span, ...] = field(default=(), repr=False)  # PII spans removed from the source
    # Streaming only: the source tail not sent yet because it may still join a protected span.
    held_back: str = ""


def prepare_source(
    text: str,
    options: TextOptions,
    identifier: TextLanguageIdentifier | None = None,
    *,
    streaming: bool = False,
) -> PreparedText:
    """Prepare ``text`` for an engine.

    ``streaming=True`` is for a source that is still growing (simultaneous mode, called again
    with the longer text after each push): trailing words that could still merge with words yet
    to come into one protected span ("Guten" before "Morgen", "USD" before "20", "612" before
    "345 678") are held back (``PreparedText.held_back``) until they are settled.  Placeholder
    numbers are given left to right, so every word already sent keeps its placeholder.
    """
    if not isinstance(text, str):
        raise InvalidInput("text must be a string", field="text")
    source_lang, confidence = options.source_lang, None
    if source_lang == AUTO and any(ch.isalpha() for ch in text):
        source_lang, confidence = (identifier or default_identifier()).identify(text)

    masked: list[Span] = []
    if options.mask_pii:
        masked = find_pii(text)
        text = apply_spans(text, masked)
    spans = _protected_spans(text, options)
    held_back = ""
    if streaming:
        cut = _settled_end(text, spans, options.glossary)
        text, held_back = text[:cut].rstrip(), text[cut:].strip()
        spans = [s for s in spans if s.end <= len(text)]
        masked = [s for s in masked if s.end <= cut]
    engine_text, placeholders = protect(text, spans)

    return PreparedText(
        text_for_engine=engine_text,
        state=TextState(placeholders, source_lang),
        hints=placeholder_hints(placeholders),
        source_lang=source_lang,
        language_confidence=confidence,
        masked=tuple(masked),
        held_back=held_back,
    )


def _protected_spans(text: str, options: TextOptions) -> list[Span]:
    candidates = [Span(m.start(), m.end(), "mask", m.group(0), m.group(0)) for m in MASK_RE.finditer(text)]
    if options.glossary is not None:
        for match in options.glossary.find(text):
            kind: SpanKind = "forced" if match.forced else "protected"
            candidates.append(Span(match.start, match.end, kind, match.source, match.target))
    if options.protect_formatting:
        candidates.extend(find_formatting(text))
    return select_spans(candidates)


# A word that may join the next one in a span: anything with a digit ("612", "9:05", "+34"),
# a currency sign or code ("USD", "€"), or a lone "+" or "(".
_MERGEABLE = re.compile(
    r".*\d.*|[+(]+|" + "|".join(re.escape(x) for x in (*CURRENCY_SYMBOLS, *CURRENCY_CODES))
)


def _settled_end(text: str, spans: list[Span], glossary: Glossary | None) -> int:
    """Offset up to which a growing source can no longer change its protected spans."""
    words = list(re.finditer(r"\S+", text))
    keep = len(words)
    while keep and _MERGEABLE.fullmatch(words[keep - 1].group(0)):
        keep -= 1
    if glossary is not None:
        keep = min(keep, len(words) - glossary.pending_words(text))
    # A span that crosses the cut is held back whole, and so is the rest of its first word.
    while keep:
        cut = words[keep].start() if keep < len(words) else len(text)
        crossing = next((sp for sp in spans if sp.start < cut < sp.end), None)
        if crossing is None:
            return cut
        keep = next(i for i, w in enumerate(words) if w.end() > crossing.start)
    return 0


def finish_target(
    engine_output: str, state: TextState, options: TextOptions, *, partial: bool = False
) -> str:
    """The final target text for a complete engine output (``partial=True``: see
    :func:`finish_target_prefix`)."""
    if partial:
        return finish_target_prefix(engine_output, state, options)
    text = _before_restore(engine_output, options)
    render = _renderer(state, options)
    text, found = restore(text, state.placeholders, render, options.target_lang)
    if len(found) < len(state.placeholders.placeholders):
        text = reinsert_missing(text, state.placeholders, found, render)
    return _tidy(text)


def finish_target_prefix(engine_prefix: str, state: TextState, options: TextOptions) -> str:
    """The displayable text for a target prefix that is still growing (simultaneous mode)."""
    text = hide_incomplete(engine_prefix, state.placeholders)
    text = _before_restore(text, options)
    text, _ = restore(text, state.placeholders, _renderer(state, options), options.target_lang)
    return _tidy(text)


def _before_restore(text: str, options: TextOptions) -> str:
    if not options.punctuation:
        text = strip_punctuation(text)
    if options.mask_profanity:
        text = mask_profanity(text, options.target_lang)
    return text


def _renderer(state: TextState, options: TextOptions) -> Render:
    def render(placeholder: Placeholder, at_sentence_start: bool) -> str:
        value = placeholder.replacement
        if options.localize_numbers and placeholder.kind in NUMERIC_KINDS:
            value = localize_span(value, placeholder.kind, state.source_lang, options.target_lang)
        # A lower-case forced translation that opens a sentence is capitalised; a term with any
        # capital ("iPhone") is the user's spelling and stays as written.
        if placeholder.kind == "forced" and at_sentence_start and value == value.lower():
            value = value[:1].upper() + value[1:]
        return value

    return render


_SPACES = re.compile(r"[ \t]{2,}")


def _tidy(text: str) -> str:
    return _SPACES.sub(" ", text).strip()
