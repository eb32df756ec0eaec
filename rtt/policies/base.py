"""The policy protocol and the shared bookkeeping of a simultaneous decoder.

A policy is fed source words as they arrive (``push``) and answers with a :class:`PolicyStep`:
target words it now *commits* (never revised afterwards) and an optional *tentative* tail that
a client may show as a partial and that later steps may replace.  Every committed word records
how many source words had been read when it was written (the delay SimulEval's Average Lagging
uses) and a wall-clock time (for computation-aware latency).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from rtt.mt.base import SENTENCE_END, MtCost, MtEngine, MtRequest, join_words, split_words


@dataclass(frozen=True)
class EmittedWord:
    text: str
    source_read: int  # source words read when the word was committed
    time_s: float  # seconds since the stream started (monotonic clock)


@dataclass
class PolicyStep:
    committed: list[EmittedWord] = field(default_factory=list)  # new this step
    tentative: str = ""  # the revisable tail after all committed words
    finished: bool = False
    cost: MtCost = field(default_factory=MtCost)


@runtime_checkable
class Policy(Protocol):
    name: str

    def push(self, words: Sequence[str], source_finished: bool = False) -> PolicyStep: ...

    @property
    def committed_text(self) -> str: ...

    @property
    def emitted(self) -> list[EmittedWord]: ...

    def reset(self) -> None: ...


@dataclass
class PolicyContext:
    engine: MtEngine
    source_lang: str
    target_lang: str
    formality: str = "default"
    hints: tuple[str, ...] = ()
    clock: Callable[[], float] = time.monotonic


class SimultaneousPolicy:
    """Holds the source read so far and the committed target; subclasses decide what to write."""

    name = "base"

    def __init__(self, ctx: PolicyContext) -> None:
        self.ctx = ctx
        self.reset()

    def reset(self) -> None:
        self.source: list[str] = []
        self._committed: list[EmittedWord] = []
        self.finished = False
        self._t0 = self.ctx.clock()

    # -- public ----------------------------------------------------------------------------
    @property
    def committed_text(self) -> str:
        return join_words([w.text for w in self._committed])

    @property
    def emitted(self) -> list[EmittedWord]:
        return list(self._committed)

    def push(self, words: Sequence[str], source_finished: bool = False) -> PolicyStep:
        if self.finished:
            return PolicyStep(finished=True)
        for w in words:
            self.source.extend(split_words(w))
        step = self._step(source_finished)
        if source_finished:
            self.finished = True
            step.finished = True
            step.tentative = ""
        return step

    # -- helpers for subclasses ------------------------------------------------------------
    def _step(self, source_finished: bool) -> PolicyStep:  # pragma: no cover - abstract
        raise NotImplementedError

    def _request(self, n_source: int | None = None, complete: bool = False) -> MtRequest:
        src = self.source if n_source is None else self.source[:n_source]
        return MtRequest(
            text=join_words(src),
            source_lang=self.ctx.source_lang,
            target_lang=self.ctx.target_lang,
            target_prefix=self.committed_text,
            source_complete=complete,
            formality=self.ctx.formality,  # type: ignore[arg-type]
            hints=self.ctx.hints,
        )

    def _commit(self, words: Sequence[str], step: PolicyStep) -> None:
        now = self.ctx.clock() - self._t0
        for w in words:
            ew = EmittedWord(w, len(self.source), now)
            self._committed.append(ew)
            step.committed.append(ew)

    def _new_words(self, hypothesis: str, final: bool = False) -> list[str]:
        """Words of a full hypothesis beyond what is already committed.

        While the source is still growing, a hypothesis that ends the sentence ("... for
        coming.") must not commit its full stop: once committed, the engine treats the target
        as finished and drops whatever the speaker says next.
        """
        words = split_words(hypothesis)[len(self._committed):]
        if not final and words:
            stripped = words[-1].rstrip(SENTENCE_END)
            if stripped and stripped != words[-1]:
                words[-1] = stripped
        return words

    def _finish(self, step: PolicyStep) -> None:
        """Source is complete: write the rest of the translation."""
        if not self.source:
            return
        result = self.ctx.engine.continue_prefix(self._request(complete=True), None)
        step.cost = step.cost + result.cost
        self._commit(self._new_words(result.text, final=True), step)
