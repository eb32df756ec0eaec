"""The batch scheduler (rtt/mt/llama_batch.py) with the packaged models.

One step at a time through the scheduler must give exactly what the unbatched engine gives:
that checks its bookkeeping (slots, positions, the cached prefix and its cut-back).  Steps that
share a decode are exact too where llama.cpp's CPU kernels do not change with the number of rows
(identical requests together give identical outputs); across batch sizes its repacked and tiled
K-quant matmuls round differently, so a token may differ there (measured in the note of #17).
"""

from __future__ import annotations

import threading

import pytest

from rtt.mt.base import MtRequest

pytestmark = pytest.mark.models
MODELS = [("qwen2.5-0.5b-instruct-q4km", "auto"), ("gemma3-270m-q4km-latin", "fewshot")]


def _engines(name: str, prompt: str):  # type: ignore[no-untyped-def]
    from rtt.models.store import ModelStore
    from rtt.mt.llama_batch import BatchSettings
    from rtt.mt.llama_engine import LlamaEngine

    store = ModelStore()
    if not store.is_ready(name):
        pytest.skip(f"{name} not assembled; run `rtt models pull`")
    path = store.resolve(name)
    return (LlamaEngine(path, prompt=prompt, batching=False),
            LlamaEngine(path, prompt=prompt, batching=True, batch=BatchSettings(slots=4, slot_ctx=1024)))


@pytest.mark.parametrize(("name", "prompt"), MODELS)
def test_steps_through_the_scheduler_equal_unbatched_steps(name, prompt, shared_data):
    from rtt.datasets import flores

    plain, batched = _engines(name, prompt)
    try:
        lines = flores("de", "en").sources[:3]
        for line in lines:
            words = line.split()
            prefix = ""
            # a wait-k-like walk: growing source, committed prefix, then the whole sentence
            for n in (4, 8, len(words)):
                req = MtRequest(" ".join(words[:n]), "de", "en", target_prefix=prefix,
                                source_complete=n == len(words))
                a = plain.continue_prefix(req, None if req.source_complete else 2)
                b = batched.continue_prefix(req, None if req.source_complete else 2)
                assert a.text == b.text, (line, n)
                prefix = a.text
    finally:
        plain.close()
        batched.close()


def test_concurrent_requests_all_finish_and_identical_ones_agree(shared_data):
    from rtt.datasets import flores

    plain, batched = _engines(*MODELS[0])
    try:
        line = flores("de", "en").sources[0]
        req = MtRequest(line, "de", "en")
        out: list[str] = [""] * 4

        def run(i: int) -> None:
            out[i] = batched.continue_prefix(req).text

        threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert all(out) and len(set(out)) == 1
        stats = batched.batcher().stats
        assert stats.max_batch_requests >= 2  # they did share decodes
    finally:
        plain.close()
        batched.close()
