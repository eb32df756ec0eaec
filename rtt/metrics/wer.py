"""Word error rate of ASR output, computed by jiwer after a fixed, documented normalization.

Normalizer (applied to references and hypotheses alike, in this order):

1. Unicode NFKC (full-width forms, ligatures and compatibility characters fold to plain ones);
2. lowercase;
3. typographic apostrophes (U+2019, U+02BC, U+2018) become ``'``;
4. every Unicode punctuation character (categories ``P*``) becomes a space, except an
   apostrophe with a letter or digit on both sides (``don't``, ``l'homme`` stay one word);
5. whitespace runs collapse to one space, ends are stripped.

Symbols (categories ``S*``: ``$``, ``€``, ``+``, ``°``) and digits are kept, so number formatting
is part of what is scored; ``%``, ``#``, ``&``, ``@`` and ``*`` are punctuation (``Po``) in Unicode
and are removed.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from rtt.errors import InvalidInput

_APOSTROPHES = {"\u2019": "'", "\u02bc": "'", "\u2018": "'"}


def normalize_for_wer(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    chars = [_APOSTROPHES.get(c, c) for c in text]
    out: list[str] = []
    for i, c in enumerate(chars):
        if c == "'":
            before = chars[i - 1] if i > 0 else ""
            after = chars[i + 1] if i + 1 < len(chars) else ""
            if before.isalnum() and after.isalnum():
                out.append(c)
                continue
            out.append(" ")
        elif unicodedata.category(c).startswith("P"):
            out.append(" ")
        else:
            out.append(c)
    return " ".join("".join(out).split())


@dataclass(frozen=True)
class WerCounts:
    """Edit counts of one utterance or of a corpus; ``wer = (S + D + I) / N``."""

    substitutions: int
    deletions: int
    insertions: int
    hits: int

    @property
    def ref_words(self) -> int:
        return self.substitutions + self.deletions + self.hits

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def wer(self) -> float:
        """Error rate; over an empty reference it is the number of inserted words (kept finite for JSON)."""
        return self.errors / max(self.ref_words, 1)

    def __add__(self, other: WerCounts) -> WerCounts:
        return WerCounts(
            self.substitutions + other.substitutions,
            self.deletions + other.deletions,
            self.insertions + other.insertions,
            self.hits + other.hits,
        )


def _counts(ref: str, hyp: str) -> WerCounts:
    import jiwer

    ref_n, hyp_n = normalize_for_wer(ref), normalize_for_wer(hyp)
    if not ref_n:
        # jiwer refuses empty references; every hypothesis word is then an insertion.
        return WerCounts(0, 0, len(hyp_n.split()), 0)
    out = jiwer.process_words(ref_n, hyp_n)
    return WerCounts(out.substitutions, out.deletions, out.insertions, out.hits)


def _pairs(refs: Sequence[str], hyps: Sequence[str]) -> list[tuple[str, str]]:
    if isinstance(refs, str) or isinstance(hyps, str):
        raise InvalidInput("refs and hyps must be sequences of strings, not a single string")
    if len(refs) != len(hyps):
        raise InvalidInput(f"{len(refs)} references but {len(hyps)} hypotheses")
    return list(zip(refs, hyps, strict=True))


def utterance_wer_counts(refs: Sequence[str], hyps: Sequence[str]) -> list[WerCounts]:
    return [_counts(r, h) for r, h in _pairs(refs, hyps)]


def corpus_wer_counts(refs: Sequence[str], hyps: Sequence[str]) -> WerCounts:
    total = WerCounts(0, 0, 0, 0)
    for c in utterance_wer_counts(refs, hyps):
        total = total + c
    return total


def word_error_rate(refs: Sequence[str], hyps: Sequence[str]) -> float:
    """Corpus WER: all edits over all reference words (not the mean of utterance WERs)."""
    if not refs:
        raise InvalidInput("cannot score an empty corpus")
    return corpus_wer_counts(refs, hyps).wer


def utterance_wer(refs: Sequence[str], hyps: Sequence[str]) -> list[float]:
    """WER of each utterance, in input order."""
    return [c.wer for c in utterance_wer_counts(refs, hyps)]
