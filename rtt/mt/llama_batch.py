"""One owner per llama.cpp model: every session's decoding in one ``llama_decode`` per step.

Without it each engine serves one request at a time behind a lock, so N sessions cost N
sequential decodes and latency grows without bound once the cores are busy.  On a CPU a decode
of a few tokens is bound by reading the weights, not by arithmetic, so decoding one token for
each of N sequences in one call costs little more than one (measured with these bindings:
1.4-1.5x tokens/s at 4 sessions, identical greedy outputs).

How it works (vLLM's scheduler in miniature): a :class:`BatchScheduler` owns a context with
``slots`` KV sequences and a thread that runs steps.  A caller asks for a token stream
(:meth:`BatchScheduler.stream`); each ``next()`` marks its request as wanting work.  Each step
the thread takes every request that wants work, highest priority first (finals, then partials),
gives each its pending tokens (the rest of its prompt, in chunks of what fits in ``n_batch``, or
the token it sampled last: prompts and single tokens share one decode, so the tokens of running
requests ride along with a new prompt), runs one ``llama_decode`` and hands each finished
request its next greedy token.  The requests that just got a token are given up to one window
to ask for the next before the following step starts, so they stay in one decode instead of
splitting into a few that each pay for reading the weights.

Background work (the refinement pass) comes in at the lowest priority, ``REFINE``: it runs only
in steps with no live work, at most ``refine_chunk`` tokens a step, so a live step that arrives
while it runs waits at most that one step (counted in ``tests/test_mt_llama_batch.py``).

A request is placed in the free slot whose cached tokens share the longest prefix with its
prompt, so the previous step of the same sentence (same instructions, same source so far) is
found again without any session bookkeeping, and only the tokens after the common prefix are
evaluated; the slot's cache is cut back there (``llama_memory_seq_rm``).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rtt.mt.llama_kv import greedy_token

log = logging.getLogger("rtt.mt")

# Priorities: lower runs first.  A final's step decides when a caption is done.
FINAL, PARTIAL, REFINE = 0, 1, 2


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


@dataclass(frozen=True)
class BatchSettings:
    """mt.batch_slots / batch_slot_ctx / batch_window_ms of the config."""

    slots: int = 16
    slot_ctx: int = 1024
    window_ms: float = 10.0
    step_tokens: int = 512


@dataclass
class _Slot:
    seq_id: int
    tokens: list[int] = field(default_factory=list)  # what this sequence's KV cells hold
    busy: bool = False
    last_used: float = 0.0


@dataclass(eq=False)
class _Request:
    prompt: list[int]
    priority: int
    repeat_penalty: float
    generated: list[int] = field(default_factory=list)
    slot: _Slot | None = None
    wanting: bool = False
    done: bool = False
    out: queue.SimpleQueue[Any] = field(default_factory=queue.SimpleQueue)
    submitted: float = field(default_factory=time.monotonic)
    # Step counts (BatchStats.steps) when it was submitted and when it was first evaluated.
    submitted_step: int = 0
    first_step: int | None = None

    def sequence(self) -> list[int]:
        return self.prompt + self.generated


@dataclass
class BatchStats:
    steps: int = 0
    tokens: int = 0
    requests: int = 0
    max_batch_requests: int = 0
    requests_per_step: float = 0.0  # running mean
    # Most steps that ran between a live request's submission and the first step that
    # evaluated it (0: the next step did; 1: it waited for the one in flight).
    max_live_wait_steps: int = 0
    busy_s: float = 0.0  # seconds inside llama_decode
    sizes: dict[int, int] = field(default_factory=dict)  # requests per step -> steps

    def add(self, n_requests: int, n_tokens: int, seconds: float = 0.0) -> None:
        self.steps += 1
        self.busy_s += seconds
        self.sizes[n_requests] = self.sizes.get(n_requests, 0) + 1
        self.tokens += n_tokens
        self.max_batch_requests = max(self.max_batch_requests, n_requests)
        self.requests_per_step += (n_requests - self.requests_per_step) / self.steps


class BatchScheduler:
    """Continuous batching over one llama.cpp model (see the module docstring)."""

    def __init__(self, llm: Any, *, slots: int = 16, ctx_per_slot: int = 1024, n_batch: int = 512,
                 threads: int | None = None, window_ms: float = 10.0, name: str = "llama",
                 refine_chunk: int = 16, step_tokens: int | None = None) -> None:
        import llama_cpp
        from llama_cpp import _internals
        from llama_cpp._utils import suppress_stdout_stderr

        self._lib = llama_cpp
        self.name = name
        # The engine's own context parameters (attention kernel, threads, ubatch), so a batched
        # step computes what an unbatched one does; only the sequence layout differs.
        params = llama_cpp.llama_context_params.from_buffer_copy(llm.context_params)
        params.n_ctx = slots * ctx_per_slot
        params.n_batch = n_batch
        params.n_ubatch = n_batch
        params.n_seq_max = slots
        params.kv_unified = False  # each slot its own cells, laid out as in a one-sequence context
        n_threads = threads or llm.n_threads
        params.n_threads = n_threads
        params.n_threads_batch = n_threads
        with suppress_stdout_stderr(disable=False):  # llama.cpp logs to stderr
            self._context = _internals.LlamaContext(model=llm._model, params=params, verbose=False)
        self._ctx = self._context.ctx
        self._mem = llama_cpp.llama_get_memory(self._ctx)
        self._n_vocab = int(llm.n_vocab())
        self.n_batch = n_batch
        self.ctx_per_slot = ctx_per_slot
        self.window_s = window_ms / 1000.0
        self.refine_chunk = refine_chunk
        # Tokens a step evaluates at most (one request always gets in): with it, the tokens of
        # running requests do not wait behind the whole prompts of new ones.
        self.step_tokens = min(step_tokens or n_batch, n_batch)
        self._batch = llama_cpp.llama_batch_init(n_batch, 0, 1)
        self._slots = [_Slot(i) for i in range(slots)]
        self._active: list[_Request] = []
        self._cond = threading.Condition()
        self._closed = False
        self.stats = BatchStats()
        self._thread = threading.Thread(target=self._run, name=f"batch-{name}", daemon=True)
        self._thread.start()

    # -- callers ------------------------------------------------------------------------------
    def stream(self, prompt: list[int], *, priority: int = PARTIAL, repeat_penalty: float = 1.0) -> Iterator[int]:
        """Greedy tokens after ``prompt``, one per ``next()``; closing the iterator ends the request."""
        if len(prompt) >= self.ctx_per_slot:
            raise ValueError(f"prompt of {len(prompt)} tokens does not fit a slot of {self.ctx_per_slot}")
        req = _Request(list(prompt), priority, repeat_penalty)
        with self._cond:
            if self._closed:
                raise RuntimeError("the batch scheduler is closed")
            req.submitted_step = self.stats.steps
            self._active.append(req)
        try:
            while len(req.sequence()) < self.ctx_per_slot:
                with self._cond:
                    req.wanting = True
                    self._cond.notify_all()
                item = req.out.get()
                if isinstance(item, BaseException):
                    raise item
                yield int(item)
        finally:
            with self._cond:
                req.done = True
                req.wanting = False
                if req in self._active:
                    self._active.remove(req)
                if req.slot is not None:
                    req.slot.busy = False
                    req.slot.last_used = time.monotonic()
                self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(10)
        if self._batch is not None:
            self._lib.llama_batch_free(self._batch)
            self._batch = None
        self._context.close()

    # -- the owner thread ---------------------------------------------------------------------
    def _run(self) -> None:
        last_step = 0.0
        returning: list[_Request] = []  # got a token last step: about to ask for the next
        while True:
            with self._cond:
                while not self._closed and not any(r.wanting for r in self._active):
                    self._cond.wait()
                deadline = time.monotonic() + self.window_s
                while not self._closed and any(not r.wanting and not r.done for r in returning):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                if self._closed:
                    for r in self._active:
                        r.out.put(RuntimeError("the batch scheduler closed"))
                    return
            if time.monotonic() - last_step > self.window_s > 0:
                # Coming out of an idle spell (not between the tokens of running requests): give
                # the other sessions' steps a moment to join this one.
                time.sleep(self.window_s)
            with self._cond:
                # By priority; within one, running requests (one token each) before new prompts.
                ready = sorted((r for r in self._active if r.wanting and not r.done),
                               key=lambda r: (r.priority, not r.generated, r.submitted))
                plan = self._plan(ready)
            try:
                self._step(plan)
            except Exception as exc:  # a failed decode fails its requests, not the thread
                log.exception("batched decode on %s failed", self.name)
                for req, _, _ in plan:
                    with contextlib.suppress(Exception):
                        req.out.put(exc)
                    req.wanting = False
                    if req.slot is not None:
                        self._reset_slot(req.slot)
            # (background requests may sit in their pause callback: not worth waiting for)
            returning = [req for req, _, last in plan if last and req.priority < REFINE]
            last_step = time.monotonic()

    def _place(self, req: _Request) -> _Slot | None:
        free = [s for s in self._slots if not s.busy]
        if not free or (req.priority >= REFINE and len(free) <= len(self._slots) // 2):
            return None  # background work never takes the slots live work needs
        seq = req.sequence()
        best = max(free, key=lambda s: (common_prefix(s.tokens, seq), -s.last_used))
        best.busy = True
        req.slot = best
        return best

    def _plan(self, ready: list[_Request]) -> list[tuple[_Request, list[int], bool]]:
        """(request, tokens to evaluate now, whether its last one yields the next token)."""
        plan: list[tuple[_Request, list[int], bool]] = []
        room = self.step_tokens
        for req in ready:
            if room <= 0:
                break
            refine = req.priority >= REFINE
            if refine and any(r.priority < REFINE for r, _, _ in plan):
                break  # background work only in steps without live work (ready is sorted)
            slot = req.slot or self._place(req)
            if slot is None:
                continue  # every slot is taken: it waits for the next step
            seq = req.sequence()
            keep = common_prefix(slot.tokens, seq)
            if keep == len(seq):
                keep -= 1  # the last token must be evaluated again for its logits
            if keep < len(slot.tokens):
                self._lib.llama_memory_seq_rm(self._mem, slot.seq_id, keep, -1)
                del slot.tokens[keep:]
            pending = seq[keep:]
            take = pending[:min(room, self.refine_chunk) if refine else room]
            if not take:
                break
            plan.append((req, take, len(take) == len(pending)))
            room -= len(take)
        return plan

    def _step(self, plan: list[tuple[_Request, list[int], bool]]) -> None:
        if not plan:
            return
        b = self._batch
        n = 0
        logit_rows: list[tuple[_Request, int]] = []
        for req, tokens, last in plan:
            slot = req.slot
            assert slot is not None
            base = len(slot.tokens)
            for i, tok in enumerate(tokens):
                b.token[n] = tok
                b.pos[n] = base + i
                b.n_seq_id[n] = 1
                b.seq_id[n][0] = slot.seq_id
                b.logits[n] = last and i == len(tokens) - 1
                n += 1
            if last:
                logit_rows.append((req, n - 1))
        b.n_tokens = n
        t0 = time.perf_counter()
        rc = self._lib.llama_decode(self._ctx, b)
        if rc != 0:
            raise RuntimeError(f"llama_decode returned {rc}")
        self.stats.add(len(plan), n, time.perf_counter() - t0)
        for req, _, _ in plan:
            if req.first_step is None:
                req.first_step = self.stats.steps
                if req.priority < REFINE:
                    wait = req.first_step - req.submitted_step - 1
                    self.stats.max_live_wait_steps = max(self.stats.max_live_wait_steps, wait)
        for req, tokens, _last in plan:
            assert req.slot is not None
            req.slot.tokens.extend(tokens)
        for req, row in logit_rows:
            ptr = self._lib.llama_get_logits_ith(self._ctx, row)
            logits = np.ctypeslib.as_array(ptr, shape=(self._n_vocab,))
            tok = greedy_token(logits, req.generated, req.repeat_penalty)
            req.generated.append(tok)
            with self._cond:
                req.wanting = False
            req.out.put(tok)

    def _reset_slot(self, slot: _Slot) -> None:
        self._lib.llama_memory_seq_rm(self._mem, slot.seq_id, 0, -1)
        slot.tokens.clear()
