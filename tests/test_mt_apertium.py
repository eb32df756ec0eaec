"""Apertium's persistent null-flush pipe against the one-shot command (real Debian packages)."""

from __future__ import annotations

import pytest

from rtt.mt.apertium_engine import ApertiumEngine, PersistentPipe, _escape, _unescape, installed_modes
from rtt.mt.base import MtRequest

SENTENCES = [
    "Hola a todos.",
    "El gato come pescado. Y bebe agua.",
    "Cuesta 3,5 € [aprox.] en http://a.com/b y {x} <y> $5 @yo *",
    "La casa",
]


@pytest.fixture(scope="module")
def engines():  # type: ignore[no-untyped-def]
    if "es-en" not in installed_modes():
        pytest.skip("apertium-en-es is not installed (apt-get install apertium apertium-en-es)")
    if PersistentPipe.command(installed_modes()["es-en"]) is None:
        pytest.skip("this Apertium has no apertium-wblank-mode; only the one-shot path exists")
    persistent, oneshot = ApertiumEngine(persistent=True), ApertiumEngine(persistent=False)
    yield persistent, oneshot
    persistent.close()
    oneshot.close()


def test_escaping_round_trips_reserved_characters() -> None:
    text = r"a [b] c/d \e ^f$ @g <h> {i} *j"
    assert _unescape(_escape(text)[:-2]) == text


@pytest.mark.parametrize("pair", ["es-en", "en-es"])
def test_persistent_pipe_matches_the_one_shot_command(engines, pair: str) -> None:  # type: ignore[no-untyped-def]
    persistent, oneshot = engines
    src, tgt = pair.split("-")
    texts = SENTENCES if src == "es" else ["Hello everybody.", "The cat eats fish. And drinks water.", "The house"]
    for text in texts:
        a = persistent.continue_prefix(MtRequest(text, src, tgt)).text
        b = oneshot.continue_prefix(MtRequest(text, src, tgt)).text
        assert a == b and a, (text, a, b)
    assert persistent._pipe_failed == set()


def test_a_dead_pipe_falls_back_to_the_one_shot_command(engines) -> None:  # type: ignore[no-untyped-def]
    # `engines` only skips this test where Apertium is missing; it needs a pipe of its own
    fresh = ApertiumEngine(persistent=True, directions=["es-en"])
    fresh.warm_up()
    pipe = fresh._pipes["es-en"]
    assert pipe._proc is not None
    pipe._start = lambda: (_ for _ in ()).throw(OSError("cannot start"))  # type: ignore[method-assign]
    pipe._kill()  # the pipe dies and cannot come back
    out = fresh.translate_batch([MtRequest("La casa", "es", "en")])[0].text
    assert out == "The house" and "es-en" in fresh._pipe_failed
    fresh.close()
