"""A llama.cpp KV cache laid out as head | source | sep | target, with source insertion.

Why: in a wait-k step the source grows by a word, and with a plain prompt everything after the
source — the separator and the whole committed target — has to be evaluated again (llama.cpp
reuses only the longest common *prefix*).  That re-evaluation grows with the sentence and is most
of a step's cost on a small model (measured: ~7 ms a token for Gemma 3 270M on 2 cores, 50+
target tokens late in a long sentence).

Here the new source tokens are *inserted*: the cells of ``sep + target`` are shifted right by
the number of new tokens (``llama_memory_seq_add``; llama.cpp re-rotates their keys) and the new
tokens are decoded at the freed positions.  llama.cpp only accepts a batch that continues a
sequence, so the new tokens are decoded in a scratch sequence (1) that shares the head and source
cells, then handed to sequence 0.  Attention is masked by sequence and position, so the new
source tokens see only the head and the older source, as they would in a fresh prompt.  The
approximation: the committed target keeps the keys/values it got when it was written, i.e.
computed with the shorter source it was actually written from.  What that costs in quality is
measured (``rtt bench waitk`` with and without ``source_insert``, reports/mt/README.md).

The cache state is remembered as text; a request that does not extend it (another sentence, a
changed head, a target that is not a continuation) falls back to evaluating from the longest
common token prefix, exactly like the plain path.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rtt.mt.prompts import PromptParts

SEQ = 0
SCRATCH = 1  # decodes inserted tokens (a batch must continue its sequence's last position)
REFRESH_ALL = 1 << 30  # a ``refresh`` that re-evaluates every sep/target cell: none stays stale
PENALTY_LAST_N = 64  # llama-cpp-python's default window for the repeat penalty


@dataclass
class _Layout:
    head: list[int] = field(default_factory=list)
    source: list[int] = field(default_factory=list)
    sep: list[int] = field(default_factory=list)
    target: list[int] = field(default_factory=list)  # evaluated target tokens, generated ones included
    head_text: str = ""
    source_text: str = ""
    sep_text: str = ""

    @property
    def n(self) -> int:
        return len(self.head) + len(self.source) + len(self.sep) + len(self.target)


def greedy_token(logits: np.ndarray, recent: Sequence[int], repeat_penalty: float) -> int:
    """The most likely token, with llama.cpp's repeat penalty on the last ``PENALTY_LAST_N``
    generated tokens (as the sampler of llama-cpp-python's own ``generate`` applies it)."""
    if repeat_penalty != 1.0 and recent:
        logits = logits.copy()
        ids = np.unique(np.asarray(recent[-PENALTY_LAST_N:], dtype=np.int64))
        vals = logits[ids]
        logits[ids] = np.where(vals > 0, vals / repeat_penalty, vals * repeat_penalty)
    return int(np.argmax(logits))


class SourceInsertCache:
    """Owns one llama.cpp context's memory (sequence 0) while the engine is in insert mode."""

    def __init__(self, llm: Any, n_batch: int = 512) -> None:
        import llama_cpp
        from llama_cpp import _internals
        from llama_cpp._utils import suppress_stdout_stderr

        self._lib = llama_cpp
        self._llm = llm
        # The scratch sequence needs a context with two sequences in one (unified) KV buffer;
        # llama-cpp-python builds one sequence, so its context is replaced by such a one.
        params = llm.context_params
        params.n_seq_max = 2
        params.kv_unified = True
        with suppress_stdout_stderr(disable=bool(llm.verbose)):  # llama.cpp logs to stderr
            ctx = _internals.LlamaContext(model=llm._model, params=params, verbose=False)
        llm._ctx.close()
        llm._ctx = ctx
        llm.n_tokens = 0
        self._ctx = ctx.ctx
        self._mem = llama_cpp.llama_get_memory(self._ctx)
        if self._mem is None or not llama_cpp.llama_memory_can_shift(self._mem):
            raise ValueError("this model's KV cache cannot shift positions")
        self._n_vocab = int(llm.n_vocab())
        self._n_batch = n_batch
        self._batch = llama_cpp.llama_batch_init(n_batch, 0, 1)
        self._state = _Layout()
        self.last_reused = 0  # cache cells kept by the latest prepare() (for MtCost)
        self.last_evaluated = 0

    def close(self) -> None:
        if self._batch is not None:
            self._lib.llama_batch_free(self._batch)
            self._batch = None

    def reset(self) -> None:
        self._lib.llama_memory_clear(self._mem, True)
        self._state = _Layout()

    # -- preparing a prompt -------------------------------------------------------------------
    def prepare(self, parts: PromptParts, refresh: int = 1) -> None:
        """Bring the cache to ``parts`` and leave the logits of its last token ready.

        ``refresh``: how many of the last sep/target cells to evaluate again with the new source
        in view (at least 1: its logits are needed; a large value re-evaluates the whole target,
        i.e. no stale cells, at the cost of the plain path).
        """
        st = self._state
        if st.n and parts.head == st.head_text and parts.sep == st.sep_text and parts.source.startswith(st.source_text):
            self._insert(parts, *self._target_split(parts.target), refresh)
        else:
            self._rebuild(parts)

    def _tok(self, text: str, bos: bool = False) -> list[int]:
        if not text:
            return []
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=bos, special=True))

    def _detok(self, tokens: Sequence[int]) -> str:
        return bytes(self._llm.detokenize(list(tokens))).decode("utf-8", errors="ignore")

    def _target_split(self, target: str) -> tuple[int, str]:
        """How many cached target tokens spell a prefix of ``target``, and the text after them."""
        st = self._state
        best = 0
        best_text = ""
        for k in range(1, len(st.target) + 1):
            t = self._detok(st.target[:k])
            if not target.startswith(t):
                break
            best, best_text = k, t
        return best, target[len(best_text):]

    def _rebuild(self, parts: PromptParts) -> None:
        head = self._tok(parts.head, bos=True)
        source = self._tok(parts.source)
        sep = self._tok(parts.sep)
        target = self._tok(parts.target)
        tokens = head + source + sep + target
        old = self._state.head + self._state.source + self._state.sep + self._state.target
        keep = 0
        for a, b in zip(old, tokens[:-1], strict=False):
            if a != b:
                break
            keep += 1
        self._lib.llama_memory_seq_rm(self._mem, SEQ, keep, -1)
        self._decode([(t, keep + i) for i, t in enumerate(tokens[keep:])])
        self._state = _Layout(head, source, sep, target, parts.head, parts.source, parts.sep)
        self.last_reused, self.last_evaluated = keep, len(tokens) - keep

    def _insert(self, parts: PromptParts, target_keep: int, target_new: str, refresh: int) -> None:
        st = self._state
        new_source = self._tok(parts.source[len(st.source_text):])
        new_target = self._tok(target_new)
        lib, mem = self._lib, self._mem
        # Drop target cells that the request does not continue (an uncommitted tail), and the
        # last ``refresh`` cells of sep + target, which are evaluated again below.
        src_end = len(st.head) + len(st.source)
        st.target = st.target[:target_keep]
        tail = st.sep + st.target
        n_refresh = max(1, min(refresh, len(tail)))
        lib.llama_memory_seq_rm(mem, SEQ, src_end + len(tail) - n_refresh, -1)
        m = len(new_source)
        if m:
            lib.llama_memory_seq_add(mem, SEQ, src_end, -1, m)
            lib.llama_memory_seq_cp(mem, SEQ, SCRATCH, 0, src_end)
            self._decode([(t, src_end + i) for i, t in enumerate(new_source)], seq=SCRATCH, logits=False)
            lib.llama_memory_seq_cp(mem, SCRATCH, SEQ, src_end, src_end + m)
            lib.llama_memory_seq_rm(mem, SCRATCH, -1, -1)
        start = src_end + m + len(tail) - n_refresh
        again = tail[len(tail) - n_refresh:] + new_target
        self._decode([(t, start + i) for i, t in enumerate(again)])
        st.source += new_source
        st.source_text = parts.source
        st.target += new_target
        self.last_evaluated = len(again) + m
        self.last_reused = st.n - self.last_evaluated

    # -- decoding -------------------------------------------------------------------------------
    def _decode(self, items: Sequence[tuple[int, int]], seq: int = SEQ, logits: bool = True) -> None:
        """Evaluate (token, position) pairs in batches; logits only for the last one."""
        b = self._batch
        for start in range(0, len(items), self._n_batch):
            chunk = items[start:start + self._n_batch]
            b.n_tokens = len(chunk)
            for i, (tok, pos) in enumerate(chunk):
                b.token[i] = tok
                b.pos[i] = pos
                b.n_seq_id[i] = 1
                b.seq_id[i][0] = seq
                b.logits[i] = False
            b.logits[len(chunk) - 1] = logits and start + len(chunk) == len(items)
            rc = self._lib.llama_decode(self._ctx, b)
            if rc != 0:
                self.reset()
                raise RuntimeError(f"llama_decode failed ({rc})")

    def _logits(self) -> np.ndarray:
        ptr = self._lib.llama_get_logits_ith(self._ctx, -1)
        arr = ctypes.cast(ptr, ctypes.POINTER(ctypes.c_float))
        return np.ctypeslib.as_array(arr, shape=(self._n_vocab,))

    def generate(self, repeat_penalty: float = 1.0) -> Iterator[int]:
        """Greedy tokens after the prepared prompt; each one is evaluated into the cache (as the
        next target token) before the following one is chosen."""
        st = self._state
        recent: list[int] = []
        while True:
            tok = greedy_token(self._logits(), recent, repeat_penalty)
            yield tok
            recent.append(tok)
            self._decode([(tok, st.n)])
            st.target.append(tok)
