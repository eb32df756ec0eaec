"""Character spans found in a text by the detectors (glossary, formatting, masking)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

SpanKind = Literal[
    "protected",  # glossary term kept verbatim
    "forced",  # glossary phrase with a forced translation
    "mask",  # a PII mask such as [EMAIL]
    "url",
    "email",
    "currency",
    "date",
    "time",
    "unit",
    "percent",
    "digits",  # phone, card and other grouped identifiers: kept, never localised
    "number",
]

# Kinds whose numeric part is rewritten when numbers are localised.
NUMERIC_KINDS: frozenset[str] = frozenset({"currency", "unit", "percent", "number"})


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: SpanKind
    text: str  # the source text of the span
    replacement: str  # what the output must contain in its place

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end


def select_spans(candidates: Iterable[Span]) -> list[Span]:
    """Keep a non-overlapping subset, leftmost first and longest on ties, in text order.

    Leftmost-longest lets a URL that contains a glossary term win over the term, and a glossary
    term such as "Model 3" win over the bare number inside it.
    """
    chosen: list[Span] = []
    for span in sorted(candidates, key=lambda s: (s.start, -(s.end - s.start))):
        if span.end <= span.start:
            continue
        if chosen and span.start < chosen[-1].end:
            continue
        chosen.append(span)
    return chosen


def apply_spans(text: str, spans: Iterable[Span]) -> str:
    """Replace non-overlapping spans (in text order) by their ``replacement``."""
    out, pos = [], 0
    for span in spans:
        out.append(text[pos : span.start])
        out.append(span.replacement)
        pos = span.end
    out.append(text[pos:])
    return "".join(out)
