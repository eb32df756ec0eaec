"""The Session contract (docs/session-api.md), run against both implementations the tests use.

``real``: ``rtt.pipeline.session.Session`` with the real ``Translator`` over the plumbing word-map
engine.  ``plumbing``: ``tests.serve_fixtures.PlumbingSession``, which the transport tests use in
its place.  Whatever the service tests learn from the plumbing session holds only as far as
both behave alike here.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from rtt.config import load_config
from rtt.pipeline import events as ev
from rtt.pipeline.options import SessionOptions
from rtt.pipeline.session import Session
from rtt.text.glossary import Glossary
from tests.serve_fixtures import PlumbingEngine, PlumbingSession, plumbing_translator
from tests.speech_fixtures import plumbing_components


def open_session(kind: str, **opts: Any) -> Any:
    options = SessionOptions(source_lang="es", target_lang="en", **opts)
    if kind == "plumbing":
        return PlumbingSession(options)
    translator = plumbing_translator(load_config(), PlumbingEngine())
    components = plumbing_components(translator=translator)
    components.config = translator.config
    return Session(components, options)


@pytest.fixture(params=["real", "plumbing"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def run(session: Any, script: Any, drain: bool = True) -> list[Any]:
    await session.start()
    events: list[Any] = []

    async def read() -> None:
        async for e in session.events():
            events.append(e)

    reader = asyncio.create_task(read())
    await script(session)
    await session.close(drain=drain)
    await asyncio.wait_for(reader, 10)  # events() ends after close
    return events


async def type_sentence(session: Any, sentence: str) -> None:
    words = sentence.split()
    for i, w in enumerate(words):
        await session.push_text(w, final=i == len(words) - 1)
        await asyncio.sleep(0.02)  # a typist: each word can be read before the next arrives


def finals(events: list[Any]) -> list[ev.FinalTranslation]:
    return [e for e in events if isinstance(e, ev.FinalTranslation)]


async def test_one_final_per_sentence_in_order_after_partials(kind: str) -> None:
    async def script(s: Any) -> None:
        await type_sentence(s, "hola a todos y buenas tardes")
        await type_sentence(s, "buenos días")

    events = await run(open_session(kind), script)
    out = finals(events)
    assert [f.source_text for f in out] == ["hola a todos y buenas tardes", "buenos días"]
    assert [f.text for f in out] == ["[en] hello to everyone and good afternoon", "[en] good morning"]
    assert out[0].utterance_id < out[1].utterance_id and {f.target_lang for f in out} == {"en"}
    first_final = events.index(out[0])
    assert any(isinstance(e, ev.PartialTranslation) for e in events[:first_final])


async def test_commit_and_a_draining_close_finish_open_sentences(kind: str) -> None:
    async def script(s: Any) -> None:
        await s.push_text("hola mundo")
        await s.commit()
        await s.push_text("gracias")  # left open: close(drain=True) delivers it

    out = finals(await run(open_session(kind), script))
    assert [f.text for f in out] == ["[en] hello world", "[en] thanks"]


async def test_set_target_lang_applies_to_the_next_sentence(kind: str) -> None:
    async def script(s: Any) -> None:
        await type_sentence(s, "hola")
        await asyncio.sleep(0.05)
        await s.set_target_lang("de")
        await type_sentence(s, "gracias")

    out = finals(await run(open_session(kind), script))
    assert [(f.target_lang, f.text) for f in out] == [("en", "[en] hello"), ("de", "[de] thanks")]


async def test_a_glossary_set_mid_session_forces_its_term(kind: str) -> None:
    async def script(s: Any) -> None:
        s.set_glossary(Glossary.from_json({"Rtt": "RTT"}))
        await type_sentence(s, "hola Rtt")

    out = finals(await run(open_session(kind), script))
    assert [f.text for f in out] == ["[en] hello RTT"]


async def test_partials_can_be_turned_off(kind: str) -> None:
    events = await run(open_session(kind, partial_results=False), lambda s: type_sentence(s, "hola a todos"))
    assert not any(isinstance(e, ev.PartialTranslation) for e in events)
    assert [f.text for f in finals(events)] == ["[en] hello to everyone"]
