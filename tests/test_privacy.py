"""Per-session privacy (rtt/pipeline/privacy.py): every transcript and translation a session
emits is masked, so clients, retained transcripts and subtitles never hold the raw text.

The session tests use plumbing fixtures (scripted ASR, an upper-casing fake MT) around the real
Session; the real-model cases (typed text and Piper speech through a served session) are in
tests/test_serve_models.py."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np

from rtt.pipeline import events as ev
from rtt.pipeline.privacy import EventMasker
from rtt.pipeline.session import Session, SessionOptions
from tests.speech_fixtures import ScriptedAsr, collect, plumbing_components, silence, stream_audio, tone

MAIL = "ana.lopez@example.com"


def masker(**kw: Any) -> EventMasker:
    return EventMasker(pii=kw.get("pii", True), profanity=kw.get("profanity", True), target_lang=lambda: "en")


def test_final_asr_text_and_word_times_are_masked_together() -> None:
    words = "escribe a ana.lopez@example.com o llama al 612 345 678 mierda".split()
    timings = tuple(ev.WordTiming(w, 100.0 * i, 100.0 * i + 90) for i, w in enumerate(words))
    final = ev.FinalAsr(0, " ".join(words), "es", 0.0, 1200.0, 1300.0, timings)
    out = masker()(final)
    assert out.text == "escribe a [EMAIL] o llama al [PHONE] m*****"
    # the address's word keeps its time; the three words of the phone number become one
    assert [(w.text, w.start_ms) for w in out.words] == [
        ("escribe", 0.0), ("a", 100.0), ("[EMAIL]", 200.0), ("o", 300.0), ("llama", 400.0), ("al", 500.0),
        ("[PHONE]", 600.0), ("m*****", 900.0)]


def test_each_field_is_masked_in_its_own_language() -> None:
    m = masker(pii=False)
    final = ev.FinalTranslation(1, "what a shit con", "qué mierda con", "es", "en", 0.0)
    out = m(final)
    # "con" is harmless in Spanish and "shit" is not Spanish: each side uses its own list
    assert (out.text, out.source_text) == ("what a s*** con", "qué m***** con")
    partial = m(ev.PartialAsr(0, "joder", "con", 0.0, "es"))
    assert (partial.committed, partial.tentative) == ("j****", "con")
    revised = m(ev.RevisedTranslation(1, "damn it", "shit", "revised", 0.0))
    assert (revised.text, revised.previous_text) == ("d*** it", "s***")


async def _speech(**options: Any) -> list[ev.Event]:
    asr = ScriptedAsr(f"escribe a {MAIL} por favor", language="es")
    session = Session(plumbing_components(asr=asr, min_silence_ms=300),
                      SessionOptions(source_lang="es", target_lang="en", word_timestamps=True, **options))
    await session.start()
    consumer = asyncio.create_task(collect(session))
    await stream_audio(session, np.concatenate([silence(0.5), tone(2.0), silence(1.0)]), realtime=0.5)
    await session.push_text(f"mi correo es {MAIL}", final=True)
    await session.close()
    return await consumer


def _texts(events: list[ev.Event]) -> list[str]:
    out: list[str] = []
    for e in events:
        for name in ("text", "committed", "tentative", "source_text", "previous_text"):
            value = getattr(e, name, None)
            if isinstance(value, str):
                out.append(value)
        out += [w.text for w in getattr(e, "words", ()) if isinstance(w, ev.WordTiming)]
    return out


async def test_a_session_with_pii_masking_emits_no_address_anywhere() -> None:
    events = await _speech(pii_masking=True)
    finals = [e for e in events if isinstance(e, ev.FinalAsr | ev.FinalTranslation)]
    assert len(finals) >= 3  # speech: transcript and translation; text: its translation
    texts = _texts(events)
    assert not [t for t in texts if "example" in t.lower()], texts
    assert any("[EMAIL]" in t for t in texts)
    # off (the default config), the same session shows it: the masking is what removed it
    assert any(MAIL in t for t in _texts(await _speech()))


def test_addresses_as_speech_recognition_writes_them_are_masked() -> None:
    m = masker(profanity=False)
    assert m.text("my email is john at example.com, call 612345678", "en") == "my email is [EMAIL], call [PHONE]"
    assert m.text("escribe a ana punto lopez arroba gmail punto com", "es") == "escribe a [EMAIL]"
    assert m.text("I looked at the house and at it", "en") == "I looked at the house and at it"


def test_partials_hide_the_fragments_of_an_address_or_number_not_yet_whole() -> None:
    m = masker(profanity=False)
    # the address straddles committed and tentative words; a half-heard one; a number so far
    p = m(ev.PartialAsr(0, "my email is john at", "example.com and my", 0.0, "en"))
    assert (p.committed, p.tentative) == ("my email is john at", "[EMAIL] and my")
    p = m(ev.PartialAsr(0, "my email is john", "at example dot com.", 0.0, "en"))
    assert (p.committed, p.tentative) == ("my email is john", "[EMAIL].")
    assert m(ev.PartialAsr(0, "john at", "example.dick.", 0.0, "en")).tentative == "[EMAIL]"
    assert m(ev.PartialTranslation(0, "mi teléfono es", "612", 0, 0.0)).tentative == "[NUMBER]"
    # the final says exactly what the rules find: a plain number stays
    assert m(ev.FinalAsr(0, "it is 25 years old", "en", 0.0, 1.0, 1.0)).text == "it is 25 years old"


def test_an_address_run_together_or_half_heard_is_masked() -> None:
    m = masker(profanity=False)
    assert m.text("My email is johnatexample.com.", "en") == "My email is [EMAIL]."
    # a partial that ends where the domain is still being spoken
    p = m(ev.PartialAsr(0, "my email is", "John at example.", 0.0, "en"))
    assert (p.committed, p.tentative) == ("my email is", "[EMAIL]")
    assert m.text("I looked at the house.", "en") == "I looked at the house."


def test_translations_never_repeat_the_words_the_source_masks_covered() -> None:
    m = EventMasker(pii=True, profanity=False, target_lang=lambda: "es")
    m(ev.PartialAsr(0, "my email is", "John at example.", 0.0, "en"))
    # the Spanish partial carries the address's parts, which no rule sees as an address
    t = m(ev.PartialTranslation(0, "mi correo es", "John en example.", 0, 0.0))
    assert t.tentative == "[EMAIL] en [EMAIL]." and "example" not in t.committed
    m(ev.FinalAsr(0, "write to ana.lopez@example.com", "en", 0.0, 1.0, 1.0))
    assert m.hide("Escribe a Lopez hoy.") == "Escribe a [EMAIL] hoy."
    assert m.hide("escribe hoy") == "escribe hoy"  # words the masks did not cover stay
    off = EventMasker(pii=False, profanity=True, target_lang=lambda: "es")
    off(ev.FinalAsr(0, "write to ana.lopez@example.com", "en", 0.0, 1.0, 1.0))
    assert off.hide("Lopez") == "Lopez"
