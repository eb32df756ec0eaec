"""Several listener languages in one session (``target_langs``): one ASR stream, one MT stream
per target.  Wiring with the plumbing fakes of tests/speech_fixtures.py (scripted ASR,
word-copying MT); the served, real-model case is in tests/test_serve_models.py."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from rtt.errors import InvalidInput, RttError
from rtt.pipeline import events as ev
from rtt.pipeline.options import SessionOptions
from rtt.pipeline.session import Session
from tests.speech_fixtures import FakeTranslator, collect, plumbing_components, silence, stream_audio, tone


def two_utterances() -> np.ndarray:
    return np.concatenate([silence(0.5), tone(3.0), silence(1.0), tone(2.0), silence(1.0)])


async def run(options: SessionOptions, samples: np.ndarray | None = None, text: list[str] | None = None,
              components=None) -> tuple[Session, list[ev.Event]]:  # type: ignore[no-untyped-def]
    components = components or plumbing_components(min_silence_ms=300)
    session = Session(components, options)
    await session.start()
    consumer = asyncio.create_task(collect(session))
    if samples is not None:
        await stream_audio(session, samples, realtime=1.0)
    for sentence in text or []:
        await session.push_text(sentence, final=True)
    await session.close()
    return session, await consumer


async def test_every_utterance_gets_a_final_in_every_target() -> None:
    translator = FakeTranslator()
    session, events = await run(SessionOptions(source_lang="es", target_langs=("en", "fr", "de")),
                                two_utterances(), components=plumbing_components(min_silence_ms=300,
                                                                                   translator=translator))
    asr = [e for e in events if isinstance(e, ev.FinalAsr)]
    finals = [e for e in events if isinstance(e, ev.FinalTranslation)]
    assert len(asr) == 2
    by_target = {t: [f.utterance_id for f in finals if f.target_lang == t] for t in ("en", "fr", "de")}
    assert by_target == {t: [a.utterance_id for a in asr] for t in ("en", "fr", "de")}
    # One transcript, translated three times: every final's source is that utterance's transcript.
    text_of = {a.utterance_id: a.text for a in asr}
    assert all(f.source_text == text_of[f.utterance_id] for f in finals)
    # Each target's stream is its own: partial translations say which language they are in.
    partial_targets = {e.target_lang for e in events if isinstance(e, ev.PartialTranslation)}
    assert partial_targets == {"en", "fr", "de"}
    assert {(s.src, s.tgt) for s in translator.made} == {("es", "en"), ("es", "fr"), ("es", "de")}
    assert session.options.target_lang == "en"


async def test_text_input_is_translated_into_every_target() -> None:
    _session, events = await run(SessionOptions(source_lang="es", target_langs=("en", "it")),
                                 text=["hola a todos", "buenas tardes"])
    finals = [(f.utterance_id, f.target_lang) for f in events if isinstance(f, ev.FinalTranslation)]
    assert sorted(finals) == [(0, "en"), (0, "it"), (1, "en"), (1, "it")]


async def test_set_target_lang_replaces_the_primary_only() -> None:
    session = Session(plumbing_components(), SessionOptions(source_lang="es", target_langs=("en", "fr")))
    await session.start()
    consumer = asyncio.create_task(collect(session))
    await session.set_target_lang("de")
    assert session.options.targets == ("de", "fr")
    with pytest.raises(InvalidInput) as err:
        await session.set_target_lang("fr")  # already the second target
    assert err.value.code == "UNSUPPORTED_LANGUAGE"
    await session.push_text("hola", final=True)
    await session.close()
    events = await consumer
    assert sorted(f.target_lang for f in events if isinstance(f, ev.FinalTranslation)) == ["de", "fr"]


@pytest.mark.parametrize(("targets", "code"), [
    (("en", "fr", "de", "it"), "TOO_MANY_TARGETS"),  # the default config takes 3
    (("en", "xx"), "UNSUPPORTED_LANGUAGE"),
    (("en", "es"), "UNSUPPORTED_LANGUAGE"),  # the source among the targets
])
def test_bad_target_lists_are_refused_with_a_code(targets: tuple[str, ...], code: str) -> None:
    with pytest.raises(RttError) as err:
        Session(plumbing_components(), SessionOptions(source_lang="es", target_langs=targets))
    assert err.value.code == code


def test_duplicates_collapse_and_a_single_target_stays_the_plain_option() -> None:
    o = SessionOptions(source_lang="es", target_langs=("EN", "fr", "en")).validate()
    assert o.targets == ("en", "fr") and o.target_lang == "en"
    assert SessionOptions(source_lang="es", target_lang="de").validate().targets == ("de",)
    with pytest.raises(RttError) as err:
        SessionOptions(target_langs=("en", "fr"), mode="direct").validate()
    assert err.value.code == "UNSUPPORTED_LANGUAGE"


def test_grpc_and_json_hellos_carry_targets_and_diarization() -> None:
    from rtt.protocol import parse_client_message
    from serve.grpc_gen import realtime_pb2 as pb
    from serve.wire.options import options_from_config
    from serve.wire.proto import hello_from_proto, to_proto

    hello = hello_from_proto(pb.Hello(source_lang="es", target_langs=["fr", "de"], diarization=True), None)
    options = options_from_config(hello)
    assert options.targets == ("fr", "de") and options.target_lang == "fr" and options.diarization is True
    design = parse_client_message({"type": "hello", "source_lang": "es", "target_langs": ["en", "it"],
                                   "features": {"diarization": True}})
    assert options_from_config(design).targets == ("en", "it")
    # Events keep their target and speaker on the gRPC wire.
    from rtt.pipeline import events as ev
    from serve.wire.events import event_to_message

    msg = event_to_message(ev.FinalTranslation(3, "bonjour", "hola", "es", "fr", 10.0, speaker="Speaker 2"), True)
    out = to_proto(msg).translation
    assert (out.target_lang, out.speaker) == ("fr", "Speaker 2")
    partial = to_proto(event_to_message(ev.PartialTranslation(3, "bon", "", 1, 5.0, "de"), True)).translation
    assert partial.target_lang == "de"
