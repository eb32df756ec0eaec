"""Plumbing fixtures: deterministic stand-ins for MT engines (no model, no quality claims)."""

from __future__ import annotations

from collections.abc import Sequence

from rtt.mt.base import MtCost, MtRequest, MtResult, take_new_words


class DictionaryEngine:
    """Word-by-word lookup 'translation' (unknown words copied).  It only exists to exercise
    policies and plumbing; it records every request it receives."""

    name = "dictionary-fake"

    def __init__(self, table: dict[str, str] | None = None) -> None:
        self.table = {k.lower(): v for k, v in (table or {}).items()}
        self.calls: list[tuple[MtRequest, int | None]] = []

    def supports(self, source_lang: str, target_lang: str) -> bool:
        return source_lang != target_lang

    def _full(self, text: str) -> str:
        return " ".join(self.table.get(w.lower(), w) for w in text.split())

    def render(self, request: MtRequest) -> str:
        """The whole 'translation' of a request (subclasses change the look, not the policy)."""
        return self._full(request.text)

    def translate_batch(self, requests: Sequence[MtRequest]) -> list[MtResult]:
        return [MtResult(self.render(r), MtCost(wall_ms=1.0)) for r in requests]

    def continue_prefix(self, request: MtRequest, max_new_words: int | None = None) -> MtResult:
        self.calls.append((request, max_new_words))
        full = self.render(request)
        # keep the committed prefix exactly, continue with the translation's remaining words
        committed = request.target_prefix.split()
        merged = " ".join(committed + full.split()[len(committed):])
        text, end = take_new_words(request.target_prefix, merged, max_new_words, True)
        return MtResult(text, MtCost(wall_ms=1.0, generated_tokens=len(text.split()) - len(committed)), end)

    def close(self) -> None:
        return None
