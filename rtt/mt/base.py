"""The protocol every MT backend implements, and the value types it exchanges.

An engine answers two questions:

* ``translate_batch``: translate whole sentences (offline / final translations);
* ``continue_prefix``: given a *source prefix* and the *committed target prefix*, propose how the
  target continues.  Simultaneous policies (wait-k, local agreement) are built on this call, so
  an engine that can reuse work between calls (KV cache, ``target_prefix`` decoding) makes every
  policy cheaper without the policy knowing.

Each result carries an :class:`MtCost`, which is how policies, benchmarks and the service learn
what a call cost (wall time, tokens, cache reuse).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

Formality = Literal["default", "formal", "informal"]


@dataclass(frozen=True)
class MtRequest:
    text: str
    source_lang: str
    target_lang: str
    # Target text already shown to the user and never revised: the engine must continue it.
    target_prefix: str = ""
    # False while the speaker (or typist) has not finished the sentence.
    source_complete: bool = True
    formality: Formality = "default"
    # Extra instructions (glossary hints) for engines that take them (LLMs); others ignore them.
    hints: tuple[str, ...] = ()
    # Background work only (the refinement pass): called between prompt chunks and tokens; it
    # blocks while live work is in flight and raises to abandon the request
    # (:mod:`rtt.mt.priority`).  Engines that cannot stop midway may ignore it.
    pause: Callable[[], None] | None = field(default=None, compare=False, repr=False)


def billed_tokens(cost: MtCost) -> int:
    """Tokens a translation is metered by: prompt tokens the engine evaluated (not those served
    from a reused cache) plus generated ones; 0 for engines without tokens (Apertium)."""
    return max(0, cost.prompt_tokens - cost.cached_tokens) + cost.generated_tokens


@dataclass
class MtCost:
    wall_ms: float = 0.0
    prompt_tokens: int = 0
    cached_tokens: int = 0  # prompt tokens served from a reused cache
    generated_tokens: int = 0
    ttft_ms: float | None = None

    def __add__(self, other: MtCost) -> MtCost:
        return MtCost(
            self.wall_ms + other.wall_ms,
            self.prompt_tokens + other.prompt_tokens,
            self.cached_tokens + other.cached_tokens,
            self.generated_tokens + other.generated_tokens,
            self.ttft_ms if self.ttft_ms is not None else other.ttft_ms,
        )


@dataclass
class MtResult:
    # Full target text, ``target_prefix`` included.
    text: str
    cost: MtCost = field(default_factory=MtCost)
    # True when the engine believes the translation is finished (EOS), not cut by a word budget.
    complete: bool = True


@runtime_checkable
class MtEngine(Protocol):
    """A translation backend.  Implementations must be safe to call from one worker thread."""

    name: str

    def supports(self, source_lang: str, target_lang: str) -> bool: ...

    def translate_batch(self, requests: Sequence[MtRequest]) -> list[MtResult]: ...

    def continue_prefix(self, request: MtRequest, max_new_words: int | None = None) -> MtResult:
        """Continue ``request.target_prefix`` as a translation of ``request.text``.

        ``max_new_words`` lets a policy that needs one more word stop decoding early; ``None``
        decodes to the end of the sentence.
        """
        ...

    def close(self) -> None: ...


# Punctuation that ends a sentence.  A partial target must not end with it: a model given a
# finished-looking target stops instead of translating the rest of the source.
SENTENCE_END = ".!?…。！？"


def split_words(text: str) -> list[str]:
    return text.split()


def join_words(words: Sequence[str]) -> str:
    return " ".join(words)


def take_new_words(prefix: str, full: str, max_new_words: int | None, complete: bool) -> tuple[str, bool]:
    """Cut ``full`` (which starts with ``prefix``) to at most ``max_new_words`` complete new words.

    A word is only known to be complete when something follows it or decoding ended; an
    unfinished last word is dropped so that committed words are never partial.
    Returns the cut text and whether it reaches the end of the hypothesis.
    """
    prefix_words = split_words(prefix)
    words = split_words(full)
    if words[: len(prefix_words)] != prefix_words:
        # The engine re-tokenised the prefix differently (spacing); trust the committed words.
        words = prefix_words + words[len(prefix_words):]
    new = words[len(prefix_words):]
    if not complete and new and not full.endswith((" ", "\n")):
        new = new[:-1]
    reached_end = complete
    if max_new_words is not None and len(new) > max_new_words:
        new = new[:max_new_words]
        reached_end = False
    return join_words(prefix_words + new), reached_end
