"""Source insertion into the llama.cpp KV cache (rtt.mt.llama_kv) with the real Qwen 0.5B file.

A second engine on the same GGUF file runs in insert mode next to the shared plain engine, so
each test compares the two on the same requests.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rtt.mt.base import MtRequest
from rtt.mt.llama_engine import LlamaEngine
from rtt.policies.base import PolicyContext
from rtt.policies.wait_k import WaitKPolicy

pytestmark = pytest.mark.models

SENTENCE = "La reunión de mañana empieza a las nueve en la sala grande del segundo piso."


@pytest.fixture(scope="module")
def insert_engine(llm_engine) -> Iterator[LlamaEngine]:  # type: ignore[no-untyped-def]
    eng = LlamaEngine(llm_engine.model_path, name="qwen-0.5b-insert", threads=2, source_insert=True)
    yield eng
    eng.close()


def test_without_insertion_the_output_is_the_plain_engines(llm_engine, insert_engine) -> None:  # type: ignore[no-untyped-def]
    # From an empty cache nothing is stale: same prompt layout, same greedy choices, token for
    # token.  (Both caches are emptied first: a prompt evaluated in other batch splits can
    # differ in the last float bits and flip a greedy choice late in a sentence.)
    requests = [
        MtRequest(SENTENCE, "es", "en"),
        MtRequest("El gato negro duerme en la casa.", "es", "en", target_prefix="The black"),
    ]
    for req in requests:
        llm_engine._llm.reset()
        insert_engine._insert.reset()
        assert insert_engine.continue_prefix(req).text == llm_engine.continue_prefix(req).text


def _late_evaluated(engine: LlamaEngine) -> tuple[list[int], str]:
    """Tokens evaluated per wait-3 step in the second half of SENTENCE, and the output."""
    words = SENTENCE.split()
    policy = WaitKPolicy(PolicyContext(engine, "es", "en"), k=3)
    steps = [policy.push([w], i == len(words) - 1) for i, w in enumerate(words)]
    late = sorted(s.cost.prompt_tokens - s.cost.cached_tokens for s in steps[len(words) // 2:-1] if s.cost.prompt_tokens)
    return late, policy.committed_text


def test_a_growing_source_is_inserted_not_re_evaluated(llm_engine, insert_engine) -> None:  # type: ignore[no-untyped-def]
    plain, _ = _late_evaluated(llm_engine)
    inserted, out = _late_evaluated(insert_engine)
    assert plain and inserted
    # plain: the whole committed target again every step; insert: the word's source tokens and
    # the refreshed last cells, whatever the length of the target
    assert inserted[len(inserted) // 2] <= insert_engine.insert_refresh + 6, inserted
    assert plain[len(plain) // 2] > inserted[len(inserted) // 2], (plain, inserted)
    low = out.lower()
    assert "meeting" in low and ("nine" in low or "9" in low), out
    assert len(out.split()) >= 10, out


def test_a_revised_tail_is_dropped_from_the_cache(insert_engine) -> None:  # type: ignore[no-untyped-def]
    base = MtRequest("El perro come", "es", "en", source_complete=False)
    first = insert_engine.continue_prefix(base, 3)
    # The next request keeps only the first word and brings a different continuation.
    kept = first.text.split()[0]
    grown = MtRequest("El perro come carne", "es", "en", target_prefix=f"{kept} hungry", source_complete=False)
    res = insert_engine.continue_prefix(grown, 1)
    assert res.text.startswith(f"{kept} hungry "), res.text
