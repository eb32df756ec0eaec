"""The refinement pass: fast finals at once, a better model's revision later, yielding to live work.

Engines here are plumbing fixtures (dictionary look-ups); they say nothing about quality.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from rtt.config import EngineConfig, MtConfig, RttConfig, load_config
from rtt.mt.base import MtRequest, MtResult
from rtt.mt.priority import Cancelled, ForegroundGate
from rtt.mt.registry import EngineRegistry
from rtt.pipeline import events as ev
from rtt.pipeline.components import Components
from rtt.pipeline.session import Session, SessionOptions
from rtt.text.glossary import Glossary
from rtt.translator import Translator
from tests.fakes import DictionaryEngine
from tests.speech_fixtures import ScriptedAsr, silence, stream_audio, tone

FAST = {"hola": "hi", "buenos": "good", "días": "days", "amigo": "pal"}
BETTER = {"hola": "hello", "buenos": "good", "días": "morning", "amigo": "friend"}


class PausingEngine(DictionaryEngine):
    """A dictionary 'model' that writes one word per step and calls ``request.pause`` between
    steps, as the llama.cpp engine does between tokens; ``gate_open`` can hold it mid-sentence."""

    name = "pausing-fake"

    def __init__(self, table: dict[str, str], step_s: float = 0.0) -> None:
        super().__init__(table)
        self.step_s = step_s
        self.gate_open = threading.Event()
        self.gate_open.set()
        self.pauses = 0
        self.cancelled = threading.Event()

    def continue_prefix(self, request: MtRequest, max_new_words: int | None = None) -> MtResult:
        if request.pause is None:
            return super().continue_prefix(request, max_new_words)
        words = self._full(request.text).split()
        for _ in words:
            try:
                request.pause()
            except Cancelled:
                self.cancelled.set()
                raise
            self.pauses += 1
            self.gate_open.wait()
            time.sleep(self.step_s)
        return MtResult(" ".join(words))

    def translate_batch(self, requests: Sequence[MtRequest]) -> list[MtResult]:
        return [self.continue_prefix(r, None) for r in requests]


def make_translator(refine: DictionaryEngine | None = None, capacity: int = 4) -> tuple[Translator, DictionaryEngine]:
    refine = refine or PausingEngine(BETTER)
    engines: dict[str, Any] = {"fast": DictionaryEngine(FAST), "better": refine}
    mt = MtConfig(
        engines={n: EngineConfig(backend="apertium") for n in engines},
        tiers={"fast": {"*": ["fast"]}, "accurate": {"*": ["better"]}},
        refine_tier="accurate",
        refine_queue=capacity,
    )
    config = load_config().model_copy(update={"mt": mt})
    config = config.model_copy(update={"vad": config.vad.model_copy(update={"backend": "energy"})})
    return Translator(config, engines=EngineRegistry(mt, builder=lambda n, c, s: engines[n])), refine


def components(translator: Translator) -> Components:
    return Components(translator.config, asr=ScriptedAsr(), translator=translator)


async def open_session(comp: Components, **opts: Any) -> tuple[Session, list[ev.Event], asyncio.Task[None]]:
    """A started es->en session and the list its events are collected into."""
    session = Session(comp, SessionOptions(source_lang="es", target_lang="en", **opts))
    await session.start()
    events: list[ev.Event] = []

    async def read() -> None:
        async for e in session.events():
            events.append(e)

    return session, events, asyncio.create_task(read())


async def text_session(comp: Components, sentences: list[str], *, drain: bool = True, **opts: Any) -> list[ev.Event]:
    session, events, reader = await open_session(comp, **opts)
    for sentence in sentences:
        words = sentence.split()
        for i, w in enumerate(words):
            await session.push_text(w, final=i == len(words) - 1)
        await asyncio.sleep(0)
    await asyncio.sleep(0.05)
    await session.close(drain=drain)
    await reader
    return events


def of(events: list[ev.Event], kind: type) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


async def test_fast_final_first_then_the_better_models_revision() -> None:
    translator, _ = make_translator()
    events = await text_session(components(translator), ["hola amigo buenos días"])
    finals, revisions = of(events, ev.FinalTranslation), of(events, ev.RevisedTranslation)
    assert [f.text for f in finals] == ["hi pal good days"] and finals[0].revision_pending
    assert len(revisions) == 1
    rev = revisions[0]
    assert (rev.status, rev.text, rev.previous_text) == ("revised", "hello friend good morning", "hi pal good days")
    assert events.index(finals[0]) < events.index(rev)
    assert rev.latency_ms["final_to_revision"] >= 0 and "endpoint_to_revision" in rev.latency_ms


async def test_an_agreeing_revision_says_unchanged_and_session_option_turns_it_off() -> None:
    translator, _ = make_translator(PausingEngine(FAST))
    events = await text_session(components(translator), ["hola amigo"])
    assert [(r.status, r.text) for r in of(events, ev.RevisedTranslation)] == [("unchanged", "hi pal")]
    events = await text_session(components(translator), ["hola amigo"], refinement=False)
    assert of(events, ev.RevisedTranslation) == []
    assert not of(events, ev.FinalTranslation)[0].revision_pending


async def test_the_glossary_applies_to_the_revision() -> None:
    translator, _ = make_translator()
    glossary = Glossary.from_json({"forced": {"amigo": "buddy"}, "protected": ["AcmeCloud"]})
    events = await text_session(components(translator), ["hola amigo AcmeCloud"], glossary=glossary)
    rev = of(events, ev.RevisedTranslation)[0]
    assert "buddy" in rev.text and "AcmeCloud" in rev.text and "friend" not in rev.text


async def test_a_backlog_skips_the_oldest_waiting_sentence_and_every_final_gets_one_answer() -> None:
    engine = PausingEngine(BETTER)
    engine.gate_open.clear()  # the first refinement stalls until released
    translator, _ = make_translator(engine, capacity=1)
    session, events, reader = await open_session(components(translator))
    for sentence in ("hola", "amigo", "buenos días"):
        await session.push_text(sentence, final=True)
        await asyncio.sleep(0.05)
    engine.gate_open.set()
    await session.close()
    await reader
    finals = of(events, ev.FinalTranslation)
    revisions = {r.utterance_id: r for r in of(events, ev.RevisedTranslation)}
    assert len(finals) == 3 and set(revisions) == {f.utterance_id for f in finals}
    assert [revisions[f.utterance_id].status for f in finals] == ["revised", "skipped", "revised"]
    skipped = revisions[finals[1].utterance_id]
    assert skipped.text == finals[1].text and skipped.reason == "backlog"
    assert session.stats["refine"]["skipped"] == 1


async def test_closing_without_drain_abandons_refinement() -> None:
    engine = PausingEngine(BETTER, step_s=0.05)
    translator, _ = make_translator(engine)
    comp = components(translator)
    with comp.gate.foreground():  # live work keeps the refinement paused at its first word
        events = await text_session(comp, ["hola amigo buenos días"], drain=False)
        # The client is gone: the paused job is abandoned, not finished later on a free core.
        assert await asyncio.to_thread(engine.cancelled.wait, 2.0)
    assert of(events, ev.FinalTranslation)[0].revision_pending
    assert of(events, ev.RevisedTranslation) == [] and engine.pauses == 0


def test_background_work_waits_for_foreground_work_and_can_be_cancelled() -> None:
    gate = ForegroundGate()
    done = threading.Event()

    def background() -> None:
        gate.pause_point()
        done.set()

    with gate.foreground():
        worker = threading.Thread(target=background)
        worker.start()
        assert not done.wait(0.2)  # held while live work runs
    assert done.wait(2.0)
    worker.join()
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        gate.pause_point(cancel)
    with gate.foreground(), pytest.raises(Cancelled):
        gate.pause_point(cancel)  # a cancelled job does not wait for the gate either


def test_a_streaming_step_holds_the_gate_and_revise_yields_to_it() -> None:
    translator, engine = make_translator(PausingEngine(BETTER, step_s=0.01))
    sim = translator.simultaneous("es", "en", refine_tier="accurate")
    seen: list[bool] = []
    real_push = sim.policy.push

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(translator.gate.busy)
        return real_push(*args, **kwargs)

    sim.policy.push = spy  # type: ignore[method-assign]
    sim.push("hola amigo buenos")
    sim.push("días", source_finished=True)
    assert seen and all(seen)  # every live step ran as foreground work
    assert sim.refinable
    result: list[Any] = []
    with translator.gate.foreground():
        worker = threading.Thread(target=lambda: result.append(sim.revise()))
        worker.start()
        time.sleep(0.2)
        assert not result  # paused at its first step
    worker.join(5)
    assert result[0].text == "hello friend good morning" and result[0].changed
    assert isinstance(engine, PausingEngine) and engine.pauses == 4


def test_refine_tier_must_name_a_tier() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="refine_tier"):
        MtConfig(engines={"a": EngineConfig(backend="apertium")}, tiers={"fast": {"*": ["a"]}}, refine_tier="nope")
    RttConfig(mt=MtConfig(engines={"a": EngineConfig(backend="apertium")}, tiers={"fast": {"*": ["a"]}}))


@pytest.mark.parametrize("arm", ["none", "gated", "ungated"])
def test_refine_bench_arm_scores_first_finals_and_revisions(arm: str) -> None:
    from rtt.bench.refine import run_arm

    translator, _ = make_translator()
    sentences = ["hola amigo", "buenos días amigo", "hola"]
    refs = ["hello friend", "good morning friend", "hello"]  # what the 'better' fixture writes
    out = run_arm(translator, arm, "es-en", sentences, refs, refine_tier="accurate", word_interval_ms=0,
                  sentence_gap_ms=0, capacity=4, log=lambda _: None)
    assert out["step_ms"]["n"] == 6 and out["sentences"] == 3
    if arm == "none":
        assert out["revisions"] == 0 and out["chrf"] == out["chrf_first_final"] < 100
    else:
        assert out["revisions"] == 3 and out["changed"] == 3 and out["skipped"] == 0
        assert out["chrf"] == 100.0 > out["chrf_first_final"]
        assert out["final_to_revision_ms"]["n"] == 3
    from rtt.bench.refine import render_markdown

    doc = {"live_tier": "fast", "refine_tier": "accurate", "policy": "wait-k balanced", "limit": 3,
           "word_interval_ms": 0, "sentence_gap_ms": 0, "machine": {"cpu_count": 2, "date": "today"}, "runs": [out]}
    row = render_markdown(doc).splitlines()[-1]
    assert row.startswith(f"| es-en | {arm} |") and row.endswith(f"| {out['chrf']:.1f} |")


async def test_a_draining_session_does_not_wait_for_refinement_forever() -> None:
    translator, _ = make_translator(PausingEngine(BETTER, step_s=0.05))
    mt = translator.config.mt.model_copy(update={"refine_drain_s": 0.3})
    translator.config = translator.config.model_copy(update={"mt": mt})
    comp = components(translator)
    with comp.gate.foreground():  # live work elsewhere never lets the refinement run
        t0 = time.monotonic()
        events = await text_session(comp, ["hola amigo", "buenos días"])
        took = time.monotonic() - t0
    assert took < 5
    revisions = of(events, ev.RevisedTranslation)
    assert [r.status for r in revisions] == ["skipped", "skipped"]
    assert {r.reason for r in revisions} == {"session_closed"}


def test_wire_forms_of_a_revision_and_of_the_session_switch() -> None:
    from rtt.protocol import parse_server_message
    from serve.grpc_gen import realtime_pb2 as pb
    from serve.wire.events import event_to_message
    from serve.wire.options import options_from_config
    from serve.wire.proto import hello_from_proto, to_proto

    event = ev.RevisedTranslation(3, "hello friend", "hi pal", "revised", 1200.0,
                                  {"final_to_revision": 900.0}, "qwen-1.5b")
    message = event_to_message(event, partial_results=False)  # never dropped with partials off
    assert message.type == "revised_translation" and message.previous_text == "hi pal"
    assert parse_server_message(message.model_dump()) == message
    proto = to_proto(message).translation
    assert (proto.is_final, proto.revision_status, proto.text, proto.previous_text) == (
        True, "revised", "hello friend", "hi pal")
    final = ev.FinalTranslation(3, "hi pal", "hola amigo", "es", "en", 300.0, revision_pending=True)
    assert event_to_message(final, partial_results=True).revision_pending
    assert to_proto(event_to_message(final, partial_results=True)).translation.revision_pending
    for flag, expected in ((0, None), (1, True), (2, False)):
        hello = hello_from_proto(pb.Hello(target_lang="en", refinement=flag), None)
        assert hello.features.refinement is expected
        assert options_from_config(hello).refinement is expected


def test_the_service_starts_when_the_refinement_model_is_missing(caplog: pytest.LogCaptureFixture) -> None:
    from rtt.errors import ModelMissing
    from serve.backend import PipelineBackend

    fast = DictionaryEngine(FAST)

    def build(name: str, cfg: Any, store: Any) -> Any:
        if name == "better":
            raise ModelMissing("qwen not in the store", model="qwen")
        return fast

    translator, _ = make_translator()
    translator.engines = EngineRegistry(translator.config.mt, builder=build)
    backend = PipelineBackend(translator.config, prewarm=False)
    backend._prewarm_translator(components(translator))  # must not raise
    assert "finals will not be revised" in caplog.text
    sim = translator.simultaneous("es", "en", refine_tier="accurate")
    assert sim.refine_engine is None and sim.push("hola", source_finished=True).committed_text == "hi"
    assert not sim.refinable


# -- speech: the refinement pass decodes the utterance again first (revised_asr) ----------------

class MishearingAsr(ScriptedAsr):
    """ASR plumbing fixture: the greedy live decodes mishear "amigo" as "amiga"; a beam-search
    decode (the refinement pass's) hears the script.  Records every decode's options."""

    def decode(self, audio: Any, options: Any) -> Any:
        result = super().decode(audio, options)
        if options.beam_size == 1:
            result.text = result.text.replace("amigo", "amiga")
        return result


async def speech_session(comp: Components, seconds: tuple[float, ...] = (2.0,), **opts: Any) -> list[ev.Event]:
    parts = [silence(0.5)]
    for s in seconds:
        parts += [tone(s), silence(1.0)]
    session, events, reader = await open_session(comp, **opts)
    await stream_audio(session, np.concatenate(parts), realtime=0.5)
    await session.close()
    await reader
    return events


async def test_a_speech_final_is_decoded_again_and_translated_from_what_is_heard_then() -> None:
    translator, _ = make_translator()
    asr = MishearingAsr("hola amigo buenos días")
    events = await speech_session(Components(translator.config, asr=asr, translator=translator))
    final_asr, final = of(events, ev.FinalAsr)[0], of(events, ev.FinalTranslation)[0]
    assert final_asr.text == "hola amiga buenos días" and final.text == "hi amiga good days"
    heard, revised = of(events, ev.RevisedAsr), of(events, ev.RevisedTranslation)
    assert len(heard) == 1 and len(revised) == 1  # one of each per final
    assert (heard[0].status, heard[0].text, heard[0].previous_text) == (
        "revised", "hola amigo buenos días", "hola amiga buenos días")
    assert revised[0].text == "hello friend good morning"  # made from the second decode's words
    assert events.index(final_asr) < events.index(final) < events.index(heard[0]) < events.index(revised[0])
    assert heard[0].latency_ms["endpoint_to_revision"] > 0 and "redecode" in heard[0].latency_ms
    # afresh: beam search, the language the session uses, no forced committed prefix
    refine_calls = [o for _, o in asr.calls if o.beam_size > 1]
    assert len(refine_calls) == 1
    assert (refine_calls[0].beam_size, refine_calls[0].prefix, refine_calls[0].language) == (5, "", "es")
    assert ev.standing_text(of(events, ev.FinalAsr), {h.utterance_id: h for h in heard}) == "hola amigo buenos días"


async def test_the_context_prompt_primes_the_next_utterance_and_its_second_decode() -> None:
    translator, _ = make_translator(PausingEngine(FAST))
    asr = MishearingAsr("hola amigo buenos días")
    events = await speech_session(Components(translator.config, asr=asr, translator=translator), (1.0, 1.0))
    finals = of(events, ev.FinalAsr)
    assert len(finals) == 2 and not finals[0].text.endswith(".")  # not a whole sentence: still context
    second = [o for n, o in asr.calls if o.prompt]
    assert second and all(o.prompt == finals[0].text for o in second)
    refine_prompts = [o.prompt for _, o in asr.calls if o.beam_size > 1]
    assert refine_prompts == ["", finals[0].text]
    # each utterance is heard again (and translated from what is heard then)
    assert [h.status for h in of(events, ev.RevisedAsr)] == ["revised", "revised"]


async def test_asr_revisions_are_skipped_with_the_translation_and_switched_off_with_refinement() -> None:
    engine = PausingEngine(BETTER)
    translator, _ = make_translator(engine, capacity=1)
    comp = Components(translator.config, asr=MishearingAsr("hola amigo buenos días"), translator=translator)
    events = await speech_session(comp, refinement=False)
    assert of(events, ev.FinalAsr) and of(events, ev.RevisedAsr) == [] == of(events, ev.RevisedTranslation)
    engine.gate_open.clear()  # the first sentence's refinement stalls: the second waits, the third takes its place
    session, events, reader = await open_session(comp)
    parts = [silence(0.5)] + [part for _ in range(3) for part in (tone(1.0), silence(1.0))]
    await stream_audio(session, np.concatenate(parts), realtime=0.5)
    for _ in range(500):
        if len(of(events, ev.FinalTranslation)) == 3:
            break
        await asyncio.sleep(0.01)
    engine.gate_open.set()
    await session.close()
    await reader
    finals = of(events, ev.FinalTranslation)
    heard = {h.utterance_id: h for h in of(events, ev.RevisedAsr)}
    revised = {r.utterance_id: r for r in of(events, ev.RevisedTranslation)}
    assert len(finals) == 3 and set(heard) == set(revised) == {f.utterance_id for f in finals}
    skipped = [f.utterance_id for f in finals if revised[f.utterance_id].status == "skipped"]
    assert len(skipped) == 1 and (heard[skipped[0]].status, heard[skipped[0]].reason) == ("skipped", "backlog")
    assert heard[skipped[0]].text == heard[skipped[0]].previous_text
    for uid in heard:
        assert events.index(heard[uid]) < events.index(revised[uid])


def test_wire_forms_of_an_asr_revision() -> None:
    from rtt.protocol import REPLAYABLE_TYPES, parse_server_message
    from serve.wire.events import event_to_message
    from serve.wire.proto import to_proto

    event = ev.RevisedAsr(2, "hola amigo", "hola amiga", "revised", 900.0, {"endpoint_to_revision": 700.0}, "es")
    message = event_to_message(event, partial_results=False)
    assert message.type == "revised_asr" and message.type in REPLAYABLE_TYPES
    assert parse_server_message(message.model_dump()) == message
    proto = to_proto(message).asr
    assert (proto.is_final, proto.revision_status, proto.text, proto.previous_text, proto.language) == (
        True, "revised", "hola amigo", "hola amiga", "es")
    assert proto.latency_ms["endpoint_to_revision"] == 700.0


async def test_the_vocabulary_and_glossary_sources_lead_every_decode_prompt() -> None:
    """A session's vocabulary (and its glossary's source terms) go ahead of the context in the
    prompt of the live decodes and of the second decode (rtt/asr/vocabulary.py)."""
    translator, _ = make_translator(PausingEngine(FAST))
    asr = MishearingAsr("hola amigo buenos días")
    comp = Components(translator.config, asr=asr, translator=translator)
    events = await speech_session(comp, (1.0, 1.0), vocabulary=("Xarelto", "Oaxaca"),
                                  glossary=Glossary(protected_terms=["Zalando"]))
    finals = of(events, ev.FinalAsr)
    assert len(finals) == 2
    prompts = [o.prompt for _, o in asr.calls]
    assert prompts and all(p.startswith("Glossary: Xarelto, Oaxaca, Zalando.") for p in prompts)
    assert any(p.endswith(finals[0].text) for p in prompts)  # the context still follows


async def test_a_glossary_set_mid_session_joins_the_vocabulary_from_the_next_utterance() -> None:
    translator, _ = make_translator(PausingEngine(FAST))
    asr = MishearingAsr("hola amigo buenos días")
    session, events, reader = await open_session(Components(translator.config, asr=asr, translator=translator),
                                                 vocabulary=("Xarelto",))
    await stream_audio(session, np.concatenate([silence(0.5), tone(1.0), silence(1.0)]), realtime=0.5)
    while not of(events, ev.FinalAsr):
        await asyncio.sleep(0.05)
    before = len(asr.calls)
    session.set_glossary(Glossary(protected_terms=["Oaxaca"]))
    await stream_audio(session, np.concatenate([tone(1.0), silence(1.0)]), realtime=0.5)
    await session.close()
    await reader
    first, later = [o.prompt for _, o in asr.calls[:before]], [o.prompt for _, o in asr.calls[before:]]
    assert first and all(p.startswith("Glossary: Xarelto.") for p in first)
    assert later and any(p.startswith("Glossary: Xarelto, Oaxaca.") for p in later)
