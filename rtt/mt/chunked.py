"""Whole-sentence translation written chunk by chunk, for small LLMs that shorten long sentences.

Given a long sentence at once, a 270M-parameter model tends to summarize it: clauses are
dropped and the output ends early.  The same model driven word by word by wait-k covers every
clause (FLORES es→en, 20 lines: 41.7 chrF whole vs 52.6 wait-3), because each step only has to
continue a committed target for a slightly longer source.  :class:`ChunkedEngine` gets most of
that gain at a fraction of the steps: it reads ``chunk_words`` source words at a time and lets
the target grow to ``read - lag + 1`` words, then writes the rest once the source is complete.
Measured on the packaged Gemma 3 270M (20 FLORES lines, chunk 6, lag 3, ~1.7x the time of one
pass): es→en 41.7 → 51.8, de→en 44.8 → 48.0, fr→en 51.2 → 52.9, en→de 28.9 → 33.1.  Qwen2.5 0.5B
gained only 0.6 for 2.4x the time, so the option is per engine (``chunk_words`` in the config).

Only whole-sentence requests are chunked (no committed target prefix, source complete); the
simultaneous policies already feed the inner engine incrementally and pass straight through.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from rtt.metrics.busy import busy_seconds
from rtt.mt.base import SENTENCE_END, MtCost, MtEngine, MtRequest, MtResult, join_words, split_words


class ChunkedEngine:
    """An :class:`~rtt.mt.base.MtEngine` that writes whole sentences through ``inner`` in chunks."""

    def __init__(self, inner: MtEngine, chunk_words: int, lag: int = 3) -> None:
        if chunk_words < 1:
            raise ValueError("chunk_words must be >= 1")
        if lag < 1:
            raise ValueError("lag must be >= 1")
        self.inner = inner
        self.name = inner.name
        self.chunk_words = chunk_words
        self.lag = lag

    def supports(self, source_lang: str, target_lang: str) -> bool:
        return self.inner.supports(source_lang, target_lang)

    def translate_batch(self, requests: Sequence[MtRequest]) -> list[MtResult]:
        return [self._whole(r) for r in requests]

    def continue_prefix(self, request: MtRequest, max_new_words: int | None = None) -> MtResult:
        if max_new_words is None:
            return self._whole(request)
        return self.inner.continue_prefix(request, max_new_words)

    def busy_seconds(self) -> float | None:
        return busy_seconds(self.inner)

    def close(self) -> None:
        self.inner.close()

    def _whole(self, request: MtRequest) -> MtResult:
        words = split_words(request.text)
        if request.target_prefix or not request.source_complete or len(words) <= self.chunk_words:
            return self.inner.continue_prefix(request, None)
        target = ""
        cost = MtCost()
        read = 0
        while True:
            read = min(len(words), read + self.chunk_words)
            done = read == len(words)
            step = replace(request, text=join_words(words[:read]), target_prefix=target, source_complete=done)
            if done:
                result = self.inner.continue_prefix(step, None)
                result.cost = cost + result.cost
                return result
            allowed = read - self.lag + 1 - len(split_words(target))
            if allowed <= 0:
                continue
            result = self.inner.continue_prefix(step, allowed)
            cost = cost + result.cost
            target = _open_ended(result.text)


def _open_ended(text: str) -> str:
    """A partial translation must not end its sentence: a committed full stop makes the next
    step treat the target as finished and drop the rest of the source.  The policies apply the
    same rule (``SimultaneousPolicy._new_words``) but keep a last word that is only punctuation;
    here it is dropped."""
    words = split_words(text)
    if words:
        stripped = words[-1].rstrip(SENTENCE_END)
        words[-1:] = [stripped] if stripped else []
    return join_words(words)
