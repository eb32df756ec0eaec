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
        # what the service exports (rtt_mt_batch_requests, rtt_model_busy_seconds_total)
        assert sum(stats.sizes.values()) == stats.steps and max(stats.sizes) == stats.max_batch_requests
        assert batched.batch_sizes() == stats.sizes and batched.busy_seconds() >= stats.busy_s > 0
        assert plain.busy_seconds() == 0 and plain.batch_sizes() == {}
    finally:
        plain.close()
        batched.close()


def test_a_refinement_never_delays_a_live_step_beyond_the_step_in_flight(shared_data):
    """Counted, not timed: steps between a live request's submission and its first decode."""
    from rtt.datasets import flores
    from rtt.mt.llama_batch import PARTIAL, REFINE

    _plain, batched = _engines(*MODELS[1])
    _plain.close()
    try:
        scheduler = batched.batcher()
        tok = batched._llm.tokenize
        lines = flores("de", "en").sources[:6]
        background = [tok(("Translate: " + " ".join(lines[i:i + 3])).encode(), add_bos=True) for i in range(2)]
        progress = [0, 0]

        def refine(i: int) -> None:
            for _ in zip(range(24), scheduler.stream(background[i], priority=REFINE), strict=False):
                progress[i] += 1

        threads = [threading.Thread(target=refine, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        while not any(progress):  # both are running their prompt chunks
            threading.Event().wait(0.01)
        for line in lines[3:6]:  # live steps arrive while the background work is running
            stream = scheduler.stream(tok(line.encode(), add_bos=True), priority=PARTIAL)
            next(stream)
            stream.close()
        for t in threads:
            t.join(120)
        assert progress == [24, 24]
        assert scheduler.stats.max_live_wait_steps <= 1
    finally:
        batched.close()


def test_many_sessions_on_one_batched_engine_each_get_one_final_per_sentence_in_order(shared_data):
    """Eight text sessions typing at once through the real Translator with mt.batching on."""
    import asyncio

    from rtt.config import load_config
    from rtt.datasets import paired
    from rtt.models.store import ModelStore
    from rtt.pipeline import events as ev
    from rtt.pipeline.components import Components
    from rtt.pipeline.session import Session, SessionOptions

    if not ModelStore().is_ready("gemma3-270m-q4km-latin"):
        pytest.skip("gemma3-270m-q4km-latin not assembled; run `rtt models pull`")
    config = load_config()
    config = config.model_copy(update={"mt": config.mt.model_copy(update={"batching": True, "refine_tier": None})})
    components = Components(config)
    pool = [s for s in paired("tatoeba", "de", "en").sources if 4 <= len(s.split()) <= 8]

    async def one(i: int) -> tuple[list[str], list[ev.FinalTranslation]]:
        sentences = pool[2 * i:2 * i + 2]
        session = Session(components, SessionOptions(source_lang="de", target_lang="en"))
        await session.start()
        finals: list[ev.FinalTranslation] = []

        async def read() -> None:
            async for e in session.events():
                if isinstance(e, ev.FinalTranslation):
                    finals.append(e)

        reader = asyncio.create_task(read())
        for sentence in sentences:
            words = sentence.split()
            for j, w in enumerate(words):
                await session.push_text(w, final=j == len(words) - 1)
                await asyncio.sleep(0.05)
        await session.close()
        await reader
        return sentences, finals

    async def main() -> list[tuple[list[str], list[ev.FinalTranslation]]]:
        return list(await asyncio.gather(*(one(i) for i in range(8))))

    try:
        results = asyncio.run(main())
        engine = getattr(components.translator.engine_for("de", "en"), "inner", None)  # under ChunkedEngine
        assert engine is not None and engine.batching and engine.batcher().stats.max_batch_requests >= 2  # they shared decodes
    finally:
        components.close()
    for sentences, finals in results:
        assert [f.source_text for f in finals] == sentences  # one final per sentence, in order
        assert [f.utterance_id for f in finals] == sorted(f.utterance_id for f in finals)
        assert all(f.text.strip() for f in finals)
