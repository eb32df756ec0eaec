"""A session's recognition vocabulary: the terms Whisper should expect (brand, drug and place
names, people), as the commercial APIs' custom vocabularies and phrase hints do.

Whisper takes no hotword list; what it conditions on is the "previous text" prompt, so the terms
go there, ahead of the session's context (``Glossary: Xarelto, Ozempic.``): the decoder then
spells a term it hears the way the prompt does.  Measured on ``golden_sets/vocabulary/terms.yaml``
(``rtt bench vocabulary``).  The prompt is bounded (Whisper's prompt half of the context is 223
tokens), so the vocabulary is too; the source side of the session's glossary joins it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rtt.errors import InvalidInput

MAX_TERMS = 50
MAX_TERM_CHARS = 64
MAX_TOTAL_CHARS = 600  # ~150-200 Whisper tokens: room is left for the context prompt


def check_vocabulary(terms: Sequence[str] | None) -> tuple[str, ...]:
    """The vocabulary as a tuple of stripped, distinct terms; ``InvalidInput`` (code
    ``INVALID_VOCABULARY``) when it is not a list of short strings within the bounds."""
    if not terms:
        return ()
    if isinstance(terms, str):
        raise InvalidInput("vocabulary must be a list of terms, not a string", code="INVALID_VOCABULARY",
                           field="vocabulary")
    out: list[str] = []
    for term in terms:
        if not isinstance(term, str) or not term.strip():
            raise InvalidInput("vocabulary terms must be non-empty strings", code="INVALID_VOCABULARY",
                               field="vocabulary")
        term = " ".join(term.split())
        if len(term) > MAX_TERM_CHARS:
            raise InvalidInput(f"vocabulary term {term[:30]!r}… is longer than {MAX_TERM_CHARS} characters",
                               code="INVALID_VOCABULARY", field="vocabulary")
        if term.lower() not in (t.lower() for t in out):
            out.append(term)
    if len(out) > MAX_TERMS:
        raise InvalidInput(f"vocabulary has {len(out)} terms; at most {MAX_TERMS}", code="VOCABULARY_TOO_LARGE",
                           field="vocabulary")
    if sum(len(t) + 2 for t in out) > MAX_TOTAL_CHARS:
        raise InvalidInput(f"vocabulary is longer than {MAX_TOTAL_CHARS} characters in all",
                           code="VOCABULARY_TOO_LARGE", field="vocabulary")
    return tuple(out)


def vocabulary_prompt(terms: Iterable[str]) -> str:
    """The prompt text that carries the terms (empty without terms)."""
    unique = list(dict.fromkeys(t for t in terms if t.strip()))
    return f"Glossary: {', '.join(unique)}." if unique else ""


def with_vocabulary(prompt: str, vocabulary: str) -> str:
    """The vocabulary ahead of the context (the context is the more recent text, so it comes last)."""
    return f"{vocabulary} {prompt}".strip() if vocabulary else prompt
