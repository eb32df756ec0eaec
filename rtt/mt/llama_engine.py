"""LLM translation over GGUF models with llama.cpp (llama-cpp-python).

Why this shape:

* Greedy decoding (temperature 0): translation wants the single most likely output, and it keeps
  results reproducible for the golden sets.
* The committed target is forced into the assistant turn (see :mod:`rtt.mt.prompts`), and
  llama-cpp-python keeps the KV cache of the longest common token prefix between calls, so a
  wait-k step that only grows the target re-evaluates a few tokens instead of the whole prompt.
* ``max_new_words`` stops decoding as soon as enough complete words exist: a policy that needs
  one more word pays for about two tokens, not a sentence.
* ``source_insert`` (opt-in) goes further for simultaneous use: new source words are inserted
  into the cache in front of the committed target instead of re-evaluating that target on every
  step (:mod:`rtt.mt.llama_kv`; an approximation whose quality cost is measured).
* A request with a ``pause`` callback is background work (the refinement pass): the prompt is
  evaluated in chunks and each token in its own step, the engine lock is released between them
  and ``pause`` runs there, so a live step on the same model waits at most one chunk, never a
  whole sentence, and never deadlocks against a paused background job.  With ``batching`` it
  goes to the model's scheduler at its lowest priority instead (rtt/mt/llama_batch.py).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rtt.errors import BackendUnavailable, ModelMissing
from rtt.languages import LANGUAGES
from rtt.metrics.busy import BusyLock
from rtt.mt.base import MtCost, MtRequest, MtResult, take_new_words
from rtt.mt.llama_batch import FINAL, PARTIAL, REFINE, BatchScheduler, BatchSettings, common_prefix
from rtt.mt.llama_kv import REFRESH_ALL, SourceInsertCache, greedy_token
from rtt.mt.prompts import PROMPTS, PromptFormat, detect_prompt
from rtt.mt.repetition import find_loop

# Prompt tokens evaluated per lock hold in background work: ~100 ms for a 1.5B model on 2 cores,
# the longest a live step on the same machine waits for it.
BACKGROUND_CHUNK = 16
# Threads for background work: with one, a live step beside it runs at its idle speed (46 vs
# 43 ms p50, against 68 ms with two; rtt/mt/priority.py) and a background token costs ~1.5x.
BACKGROUND_THREADS = 1


class LlamaEngine:
    """An :class:`~rtt.mt.base.MtEngine` backed by one llama.cpp context."""

    def __init__(
        self,
        model_path: str | Path,
        *,
        name: str = "llama",
        prompt: str = "auto",
        n_ctx: int = 2048,
        threads: int | None = None,
        repeat_penalty: float = 1.1,
        directions: Sequence[str] = (),
        languages: Sequence[str] = (),
        source_insert: bool = False,
        insert_refresh: int = 4,
        batching: bool = False,
        batch: BatchSettings | None = None,
    ) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise BackendUnavailable("llama-cpp-python is not installed (pip install llama-cpp-python)") from exc
        path = Path(model_path)
        if path.is_dir():
            ggufs = sorted(path.glob("*.gguf"))
            if not ggufs:
                raise ModelMissing(f"no .gguf file in {path}", model=str(path))
            path = ggufs[0]
        if not path.is_file():
            raise ModelMissing(f"GGUF model {path} does not exist", model=str(path))
        self.name = name
        self.model_path = path
        self.repeat_penalty = repeat_penalty
        self.directions = set(directions)
        self.languages = set(languages)
        self._lock = BusyLock()
        self.threads = threads or os.cpu_count() or 2
        self._llm: Any = Llama(
            model_path=str(path),
            n_ctx=n_ctx,
            n_threads=self.threads,
            n_batch=512,
            verbose=False,
            seed=0,
        )
        self.prompt: PromptFormat = (
            detect_prompt(self._llm.metadata) if prompt == "auto" else PROMPTS[prompt]
        )
        # Batched live steps use plain prompts; insertion is a one-sequence technique.
        self.batching = batching
        self._batch_settings = batch or BatchSettings()
        self._batcher: BatchScheduler | None = None
        self._insert: SourceInsertCache | None = (
            SourceInsertCache(self._llm) if source_insert and not batching else None)
        self.insert_refresh = insert_refresh
        self._stop_ids = {self._llm.token_eos()}
        for s in self.prompt.stop:
            ids = self._llm.tokenize(s.encode(), add_bos=False, special=True)
            if len(ids) == 1:
                self._stop_ids.add(ids[0])

    # -- MtEngine ---------------------------------------------------------------------------
    def supports(self, source_lang: str, target_lang: str) -> bool:
        if self.languages and not {source_lang, target_lang} <= self.languages:
            return False
        if self.directions:
            return f"{source_lang}-{target_lang}" in self.directions
        return source_lang in LANGUAGES and target_lang in LANGUAGES and source_lang != target_lang

    def translate_batch(self, requests: Sequence[MtRequest]) -> list[MtResult]:
        # llama.cpp's high-level API decodes one sequence at a time; ordering by source text
        # makes neighbouring prompts share prefixes (same instructions), so the cache helps.
        order = sorted(range(len(requests)), key=lambda i: (requests[i].source_lang, requests[i].target_lang))
        out: list[MtResult | None] = [None] * len(requests)
        for i in order:
            out[i] = self.continue_prefix(requests[i], None)
        return [r for r in out if r is not None]

    def _background_pause(self, request: MtRequest) -> Callable[[], None] | None:
        """The request's pause callback when it runs as background work here.  The insert cache
        keeps its own layout between calls and cannot lend the context out mid-request, so there
        a paused request runs to the end under the lock instead."""
        return request.pause if self._insert is None else None

    def continue_prefix(self, request: MtRequest, max_new_words: int | None = None) -> MtResult:
        if self._background_pause(request) is not None:
            return self._decode(request, max_new_words, 0)  # takes the lock step by step
        if self.batching:
            return self._decode(request, max_new_words, 0)  # the scheduler owns its own context
        with self._lock:
            return self._generate(request, max_new_words)

    def busy_seconds(self) -> float:
        """Seconds under the engine lock plus the scheduler's decode steps (which run outside it)."""
        batcher = self._batcher
        return self._lock.seconds + (batcher.stats.busy_s if batcher is not None else 0.0)

    def batch_sizes(self) -> dict[int, int]:
        """How many scheduler steps ran with n requests in one batch (empty: not batching yet)."""
        batcher = self._batcher
        return dict(batcher.stats.sizes) if batcher is not None else {}

    def batcher(self) -> BatchScheduler:
        """The model's scheduler, made on the first live step (its KV cells cost memory)."""
        with self._lock:
            if self._batcher is None:
                b = self._batch_settings
                self._batcher = BatchScheduler(self._llm, slots=b.slots, ctx_per_slot=b.slot_ctx,
                                               threads=self.threads, window_ms=b.window_ms, name=self.name,
                                               step_tokens=b.step_tokens)
            return self._batcher

    def close(self) -> None:
        batcher, self._batcher = self._batcher, None
        if batcher is not None:
            batcher.close()
        insert, self._insert = self._insert, None
        if insert is not None:
            insert.close()
        llm, self._llm = self._llm, None
        if llm is not None:
            llm.close()

    # -- decoding ---------------------------------------------------------------------------
    def _generate(self, request: MtRequest, max_new_words: int | None) -> MtResult:
        if self._insert is None:
            return self._decode(request, max_new_words, 0)
        # The sentence's last step sees the whole target fresh: with stale cells, a target
        # written from a shorter source tends to end where that source ended (measured).
        if request.source_complete:
            return self._decode(request, max_new_words, REFRESH_ALL)
        result = self._decode(request, max_new_words, self.insert_refresh)
        wanted = 1 if max_new_words is None else max_new_words
        new = len(result.text.split()) - len(request.target_prefix.split())
        if result.complete and new < wanted:
            # It stopped before the source was covered: maybe staleness, so ask again fresh.
            retry = self._decode(request, max_new_words, REFRESH_ALL)
            retry.cost = result.cost + retry.cost
            return retry
        return result

    def _tokens(self, request: MtRequest, refresh: int) -> tuple[Iterator[int], int, int]:
        """The token stream for ``request``, the prompt length and how much of it was cached."""
        llm = self._llm
        if self._insert is not None:
            self._insert.prepare(self.prompt.parts(request), refresh)
            n = self._insert.last_reused + self._insert.last_evaluated
            return self._insert.generate(self.repeat_penalty), n, self._insert.last_reused
        tokens = llm.tokenize(self.prompt.render(request).encode("utf-8"), add_bos=True, special=True)
        cached = common_prefix(llm._input_ids[: llm.n_tokens].tolist(), tokens[:-1])
        pause = self._background_pause(request)
        if pause is not None and self.batching:
            stream = self.batcher().stream(tokens, priority=REFINE, repeat_penalty=self.repeat_penalty)
            return _paused(stream, pause), len(tokens), 0
        if pause is not None:
            return self._background_tokens(tokens, pause), len(tokens), cached
        if self.batching:
            priority = FINAL if request.source_complete else PARTIAL
            return self.batcher().stream(tokens, priority=priority, repeat_penalty=self.repeat_penalty), len(tokens), 0
        stream = llm.generate(tokens, temp=0.0, top_k=1, repeat_penalty=self.repeat_penalty, reset=True)
        return stream, len(tokens), cached

    def _background_tokens(self, prompt: list[int], pause: Callable[[], None]) -> Iterator[int]:
        """Greedy tokens after ``prompt``, computed a chunk at a time under the engine lock with
        ``pause`` called between chunks.  Another request may use the context while the lock is
        free, so each chunk first re-checks what the cache holds and evaluates only what is
        missing (nothing, unless someone else ran in between)."""
        llm = self._llm
        generated: list[int] = []
        while True:
            pause()
            with self._lock:
                seq = prompt + generated
                have = common_prefix(llm._input_ids[: llm.n_tokens].tolist(), seq[:-1])
                llm.n_tokens = have  # eval() drops the cache cells after n_tokens
                llm._ctx.set_n_threads(BACKGROUND_THREADS, BACKGROUND_THREADS)
                try:
                    if have < len(seq) - 1:
                        llm.eval(seq[have:min(have + BACKGROUND_CHUNK, len(seq) - 1)])
                        continue
                    # The last token is evaluated in the same lock hold as the choice it informs.
                    llm.eval(seq[-1:])
                finally:
                    llm._ctx.set_n_threads(llm.n_threads, llm.n_threads_batch)
                logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),))
                tok = greedy_token(logits, generated, self.repeat_penalty)
            generated.append(tok)
            yield tok

    def _decode(self, request: MtRequest, max_new_words: int | None, refresh: int) -> MtResult:
        llm = self._llm
        t0 = time.perf_counter()
        stream, n_prompt, cached = self._tokens(request, refresh)
        src_tokens = len(llm.tokenize(request.text.encode("utf-8"), add_bos=False))
        budget = min(3 * src_tokens + 16, llm.n_ctx() - n_prompt - 1)
        try:
            generated, text, complete, ttft = self._consume(request, stream, max_new_words, budget, t0)
        finally:
            closer = getattr(stream, "close", None)
            if closer is not None:
                closer()  # a batched stream gives its slot back; a generator stops
        full = (request.target_prefix + text).strip()
        cut, reached_end = take_new_words(request.target_prefix, full, max_new_words, complete)
        cost = MtCost(
            wall_ms=(time.perf_counter() - t0) * 1000,
            prompt_tokens=n_prompt,
            cached_tokens=cached,
            generated_tokens=len(generated),
            ttft_ms=ttft,
        )
        return MtResult(cut, cost, reached_end)

    def _consume(self, request: MtRequest, stream: Iterator[int], max_new_words: int | None, budget: int,
                 t0: float) -> tuple[list[int], str, bool, float | None]:
        """Read tokens until a stop: (tokens, text, whether the translation ended, ms to the first)."""
        llm = self._llm
        generated: list[int] = []
        text = ""
        complete = False
        ttft: float | None = None
        for tok in stream:
            if ttft is None:
                ttft = (time.perf_counter() - t0) * 1000
            if tok in self._stop_ids:
                complete = True
                break
            generated.append(tok)
            text = llm.detokenize(generated).decode("utf-8", errors="ignore")
            if any(s in text for s in self.prompt.stop):
                text = min((text.split(s)[0] for s in self.prompt.stop if s in text), key=len)
                complete = True
                break
            words = (request.target_prefix + text).split()
            keep = find_loop(words)
            if keep is not None:
                text = " ".join(words[:keep])[len(request.target_prefix):]
                complete = True
                break
            if max_new_words is not None and len(words) - len(request.target_prefix.split()) > max_new_words:
                break
            if len(generated) >= budget:
                complete = True
                break
        return generated, text, complete, ttft


def _paused(stream: Iterator[int], pause: Callable[[], None]) -> Iterator[int]:
    """``stream`` with ``pause`` called before each token is asked for: background work waits
    (or is cancelled) in its own thread while live work holds the gate, never in the scheduler."""
    try:
        while True:
            pause()
            try:
                tok = next(stream)
            except StopIteration:
                return
            yield tok
    finally:
        closer = getattr(stream, "close", None)
        if closer is not None:
            closer()
