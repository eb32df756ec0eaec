"""User glossaries: terms kept verbatim and phrases with a forced translation.

A glossary arrives as JSON from the API in one of two shapes::

    {"protected": ["AcmeCloud"], "forced": {"Guten Morgen": "Good morning"}}
    {"AcmeCloud": "AcmeCloud", "Guten Morgen": "Good morning"}   # src == tgt means protected

Matching is case-insensitive on word boundaries and prefers the longest term at each position,
so ``"Acme Cloud Pro"`` wins over ``"Acme Cloud"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from rtt.errors import InvalidInput

MAX_ENTRIES = 1000
# The protocol's error code for a malformed glossary (an ``InvalidInput`` with this code).
GLOSSARY_ERROR = "INVALID_GLOSSARY"
MAX_TERM_CHARS = 200

_STRUCTURED_KEYS = frozenset({"protected", "forced"})


@dataclass(frozen=True)
class TermMatch:
    start: int
    end: int
    source: str  # the text as written in the source
    target: str  # what must appear in the output
    forced: bool  # False: a protected term (target == source as written)


@dataclass(frozen=True)
class Glossary:
    protected_terms: list[str] = field(default_factory=list)
    forced: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_size(len(self.protected_terms) + len(self.forced))
        for term in self.protected_terms:
            _check_term(term, "protected term")
        for src, tgt in self.forced.items():
            _check_term(src, "forced source phrase")
            _check_term(tgt, f"forced translation of {src!r}")

    # -- parsing ---------------------------------------------------------------------------
    @classmethod
    def from_json(cls, raw: Any) -> Glossary:
        """Build a glossary from the API's JSON value.

        Raises ``InvalidInput`` with code ``INVALID_GLOSSARY`` when it is malformed."""
        if isinstance(raw, Glossary):
            return raw
        if not isinstance(raw, dict):
            raise _error("glossary must be a JSON object", field="glossary", got=type(raw).__name__)
        if raw and set(raw) <= _STRUCTURED_KEYS and _looks_structured(raw):
            protected = raw.get("protected", [])
            forced = raw.get("forced", {})
            if not isinstance(protected, list):
                raise _error("glossary.protected must be a list of strings", field="glossary.protected")
            if not isinstance(forced, dict):
                raise _error("glossary.forced must be an object", field="glossary.forced")
            for term in protected:
                _check_string(term, "glossary.protected")
            for src, tgt in forced.items():
                _check_string(src, "glossary.forced")
                _check_string(tgt, f"glossary.forced[{src!r}]")
            return cls(_dedupe(protected), dict(forced))
        protected_terms: list[str] = []
        forced_map: dict[str, str] = {}
        for src, tgt in raw.items():
            _check_string(src, "glossary")
            _check_string(tgt, f"glossary[{src!r}]")
            if src.strip() == tgt.strip():
                protected_terms.append(src)
            else:
                forced_map[src] = tgt
        return cls(_dedupe(protected_terms), forced_map)

    def to_json(self) -> dict[str, Any]:
        return {"protected": list(self.protected_terms), "forced": dict(self.forced)}

    def __len__(self) -> int:
        return len(self.protected_terms) + len(self.forced)

    # -- matching --------------------------------------------------------------------------
    @cached_property
    def _entries(self) -> dict[str, tuple[str, bool]]:
        """Lower-cased source term -> (target, forced).  Forced entries win over protected ones."""
        entries: dict[str, tuple[str, bool]] = {}
        for term in self.protected_terms:
            entries[_key(term)] = (term, False)
        for src, tgt in self.forced.items():
            entries[_key(src)] = (tgt, True)
        return entries

    @cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        if not self._entries:
            return None
        # Regex alternation takes the first alternative that matches, so longest-first ordering
        # gives the longest match at each position.
        terms = sorted(self._entries, key=len, reverse=True)
        body = "|".join(_term_regex(t) for t in terms)
        return re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE)

    def find(self, text: str) -> list[TermMatch]:
        """Non-overlapping matches, left to right."""
        pattern = self._pattern
        if pattern is None:
            return []
        matches = []
        for m in pattern.finditer(text):
            entry = self._entries.get(_key(m.group(0)))
            if entry is None:  # a case mapping re.IGNORECASE accepts but lower() does not
                continue
            target, forced = entry
            matches.append(
                TermMatch(m.start(), m.end(), m.group(0), target if forced else m.group(0), forced)
            )
        return matches

    def pending_words(self, text: str) -> int:
        """How many trailing words of a growing source could still become part of a multi-word
        term (``"Guten"`` while ``"Guten Morgen"`` is in the glossary).  A streaming caller holds
        those words back so that the placeholders it has sent never change."""
        words = _key(text).split(" ")
        longest = _max_words(self._entries)
        for n in range(min(len(words), longest - 1), 0, -1):
            tail = words[-n:]
            if any(len(k.split(" ")) > n and k.split(" ")[:n] == tail for k in self._entries):
                return n
        return 0


def parse_glossary(raw: Any) -> Glossary | None:
    """``Glossary.from_json`` that lets "no glossary" (None or an empty object) through as None."""
    if raw is None or (isinstance(raw, dict) and not raw):
        return None
    return Glossary.from_json(raw)


def merge_glossaries(session: Glossary | None, request: Glossary | None) -> Glossary | None:
    """Combine a session glossary with a request one; on the same source term the request wins."""
    if session is None:
        return request
    if request is None:
        return session
    entries: dict[str, tuple[str, str, bool]] = {}
    for glossary in (session, request):
        for term in glossary.protected_terms:
            entries[_key(term)] = (term, term, False)
        for src, tgt in glossary.forced.items():
            entries[_key(src)] = (src, tgt, True)
    protected = [src for src, _, forced in entries.values() if not forced]
    forced_map = {src: tgt for src, tgt, forced in entries.values() if forced}
    return Glossary(protected, forced_map)


def _error(message: str, **details: Any) -> InvalidInput:
    return InvalidInput(message, code=GLOSSARY_ERROR, **details)


def _looks_structured(raw: dict[str, Any]) -> bool:
    """A plain ``{src: tgt}`` dict may contain a term called "forced"; it has a string value."""
    return isinstance(raw.get("protected", []), list) and isinstance(raw.get("forced", {}), dict)


def _check_string(value: Any, where: str) -> None:
    if not isinstance(value, str):
        raise _error(f"{where}: glossary entries must be strings, got {type(value).__name__}", field=where)


def _check_term(term: str, what: str) -> None:
    if not isinstance(term, str):
        raise _error(f"{what} must be a string", field="glossary")
    if not term.strip():
        raise _error(f"{what} must not be empty", field="glossary")
    if len(term) > MAX_TERM_CHARS:
        raise _error(
            f"{what} is {len(term)} characters long; the limit is {MAX_TERM_CHARS}",
            field="glossary",
            term=term[:40],
        )


def _check_size(n: int) -> None:
    if n > MAX_ENTRIES:
        raise _error(f"glossary has {n} entries; the limit is {MAX_ENTRIES}", field="glossary", entries=n)


def _dedupe(terms: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for term in terms:
        seen.setdefault(_key(term), term)
    return list(seen.values())


def _key(term: str) -> str:
    # lower(), not casefold(): it must agree with re.IGNORECASE, which does not map ß to ss.
    return " ".join(term.split()).lower()


def _term_regex(key: str) -> str:
    # Any run of whitespace in the text matches the single space of the normalised key.
    return r"\s+".join(re.escape(word) for word in key.split(" "))


def _max_words(entries: dict[str, tuple[str, bool]]) -> int:
    return max((k.count(" ") + 1 for k in entries), default=0)


def glossary_sources(glossary: Glossary | None) -> list[str]:
    """The source-side terms of a glossary (protected terms, forced phrases): what recognition
    should expect to hear (rtt/asr/vocabulary.py)."""
    if glossary is None:
        return []
    return [*glossary.protected_terms, *glossary.forced]
