"""prepare_source / finish_target around plumbing fakes (no model, no quality claims)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import pytest

from rtt.errors import InvalidInput, UnsupportedLanguage
from rtt.mt.base import MtCost, MtEngine, MtRequest, MtResult
from rtt.text import Glossary, TextOptions, finish_target, finish_target_prefix, prepare_source
from tests.fakes import DictionaryEngine


class RewritingEngine:
    """Plumbing fixture: 'translates' by applying a string function (uppercase, mangle, drop)."""

    def __init__(self, name: str, rewrite: Callable[[str], str]) -> None:
        self.name = name
        self.rewrite = rewrite
        self.requests: list[MtRequest] = []

    def supports(self, source_lang: str, target_lang: str) -> bool:
        return True

    def translate_batch(self, requests: Sequence[MtRequest]) -> list[MtResult]:
        self.requests.extend(requests)
        return [MtResult(self.rewrite(r.text), MtCost()) for r in requests]

    def continue_prefix(self, request: MtRequest, max_new_words: int | None = None) -> MtResult:
        return self.translate_batch([request])[0]

    def close(self) -> None:
        return None


UPPER = RewritingEngine("upper", str.upper)
# Lower-cases placeholders and spaces them out the way sloppy decoders do: "ZXQ1" -> "zxq 1".
MANGLE = RewritingEngine(
    "mangle", lambda t: re.sub(r"([A-Z]{3})(\d+)", lambda m: f"{m.group(1).lower()} {m.group(2)}", t)
)
DROP = RewritingEngine("drop", lambda t: " ".join(w for w in t.split() if not re.match(r"[A-Z]{3}\d", w)))


def translate(engine: MtEngine, text: str, options: TextOptions) -> str:
    prepared = prepare_source(text, options)
    request = MtRequest(
        prepared.text_for_engine, prepared.source_lang, options.target_lang, hints=prepared.hints
    )
    output = engine.translate_batch([request])[0].text
    return finish_target(output, prepared.state, options)


def opts(**kw: object) -> TextOptions:
    base: dict[str, object] = {"source_lang": "de", "target_lang": "en"}
    base.update(kw)
    return TextOptions(**base)  # type: ignore[arg-type]


GLOSSARY = Glossary.from_json({"protected": ["AcmeCloud"], "forced": {"Guten Morgen": "Good morning"}})


def test_forced_and_protected_terms_with_a_dictionary_engine() -> None:
    engine = DictionaryEngine({"bei": "at", "willkommen": "welcome"})
    out = translate(engine, "Guten Morgen, willkommen bei AcmeCloud.", opts(glossary=GLOSSARY))
    assert out == "Good morning, welcome at AcmeCloud."


def test_hints_for_llm_engines() -> None:
    prepared = prepare_source(
        "Guten Morgen, AcmeCloud.", opts(glossary=GLOSSARY, formality="formal", target_lang="fr")
    )
    assert prepared.text_for_engine == "ZXQ1, ZXQ2."
    assert 'Translate "Guten Morgen" as "Good morning" (written ZXQ1).' in prepared.hints
    # formality travels in MtRequest.formality; the prompt renders it once
    assert not any("vous" in h for h in prepared.hints)
    assert prepare_source("Hallo", opts()).hints == ()


@pytest.mark.parametrize("engine", [UPPER, MANGLE], ids=lambda e: e.name)
def test_placeholders_survive_case_and_spacing_changes(engine: RewritingEngine) -> None:
    out = translate(
        engine, "Guten Morgen, AcmeCloud kostet 1.234,50 € ab 12.03.2024.", opts(glossary=GLOSSARY)
    )
    for term in ("Good morning", "AcmeCloud", "1.234,50 €", "12.03.2024"):
        assert term in out
    assert "zxq" not in out.lower()


def test_lost_placeholders_are_reinserted() -> None:
    out = translate(DROP, "Sagen Sie Guten Morgen zu AcmeCloud", opts(glossary=GLOSSARY))
    assert "Good morning" in out and "AcmeCloud" in out
    assert out.index("Good morning") < out.index("AcmeCloud")


def test_pii_is_masked_before_glossary_and_formatting() -> None:
    g = Glossary.from_json({"protected": ["acmecloud"]})
    text = "Schreiben Sie an support@acmecloud.com oder rufen Sie +49 30 1234567 an."
    engine = DictionaryEngine()
    masked = prepare_source(text, opts(glossary=g, mask_pii=True))
    assert "acmecloud" not in masked.text_for_engine and "1234567" not in masked.text_for_engine
    assert [s.replacement for s in masked.masked] == ["[EMAIL]", "[PHONE]"]
    out = translate(engine, text, opts(glossary=g, mask_pii=True))
    assert "[EMAIL]" in out and "[PHONE]" in out and "acmecloud" not in out
    # Without masking the whole address is one protected span and comes back unchanged.
    assert "support@acmecloud.com" in translate(engine, text, opts(glossary=g))


def test_literal_mask_tokens_in_the_source_are_kept() -> None:
    assert translate(UPPER, "Antwort an [EMAIL] senden", opts()) == "ANTWORT AN [EMAIL] SENDEN"


def test_punctuation_off_keeps_protected_spans() -> None:
    text = "Hallo, AcmeCloud! Siehe https://acme.io/a?b=1, Preis 3.5 kg."
    out = translate(DictionaryEngine(), text, opts(glossary=GLOSSARY, punctuation=False))
    assert out == "Hallo AcmeCloud Siehe https://acme.io/a?b=1 Preis 3.5 kg"


def test_profanity_is_masked_in_the_target_but_not_in_protected_terms() -> None:
    g = Glossary.from_json({"protected": ["Damn Yankees"]})
    engine = DictionaryEngine({"verdammt": "damn", "spielen": "play", "gut": "well"})
    out = translate(engine, "Damn Yankees spielen verdammt gut", opts(glossary=g, mask_profanity=True))
    assert out == "Damn Yankees play d*** well"


def test_localize_numbers() -> None:
    text = "It costs $1,234.50 for 2.5 kg, 12.5% off, order 2024."
    out = translate(DictionaryEngine(), text, opts(source_lang="en", target_lang="de", localize_numbers=True))
    assert out == "It costs $1.234,50 for 2,5 kg, 12,5% off, order 2024."
    out = translate(DictionaryEngine(), text, opts(source_lang="en", target_lang="de"))
    assert out == text


def test_forced_lower_case_translation_opening_a_sentence_is_capitalised() -> None:
    g = Glossary.from_json({"forced": {"nube": "cloud"}})
    out = translate(
        DictionaryEngine({"es": "is", "rápida": "fast"}), "Nube es rápida", opts(source_lang="es", glossary=g)
    )
    assert out == "Cloud is fast"


def test_auto_source_language_is_detected() -> None:
    prepared = prepare_source("Guten Morgen, wie geht es Ihnen heute?", opts(source_lang="auto"))
    assert prepared.source_lang == "de"
    assert prepared.state.source_lang == "de"
    assert prepared.language_confidence is not None and prepared.language_confidence > 0.5


def test_empty_text_and_invalid_options() -> None:
    prepared = prepare_source("", opts(source_lang="auto"))
    assert prepared.text_for_engine == "" and finish_target("", prepared.state, opts()) == ""
    with pytest.raises(InvalidInput):
        opts(formality="rude")
    with pytest.raises(UnsupportedLanguage):
        opts(target_lang="xx")
    with pytest.raises(InvalidInput):
        prepare_source(None, opts())  # type: ignore[arg-type]


def test_streaming_prefixes_grow_monotonically_and_never_show_placeholders() -> None:
    text = "Guten Morgen, AcmeCloud kostet 1.234,50 € ab 12.03.2024 und mehr."
    options = opts(glossary=GLOSSARY, mask_profanity=True, localize_numbers=True)
    prepared = prepare_source(text, options)
    output = prepared.text_for_engine  # an echo engine
    final = finish_target(output, prepared.state, options)
    # Feed the output character by character, as a token stream would.
    previous: list[str] = []
    for i in range(len(output) + 1):
        shown = finish_target_prefix(output[:i], prepared.state, options)
        assert "ZX" not in shown.upper() or "ZX" in text.upper()
        words = shown.split()
        # every word but the last (possibly still growing) stays put
        assert words[: max(len(previous) - 1, 0)] == previous[: max(len(previous) - 1, 0)]
        previous = words
    assert finish_target_prefix(output, prepared.state, options) == final
    assert final == "Good morning, AcmeCloud kostet 1,234.50 € ab 12.03.2024 und mehr."


def test_streaming_word_by_word_shows_each_placeholder_as_soon_as_complete() -> None:
    options = opts(glossary=GLOSSARY)
    prepared = prepare_source("Guten Morgen AcmeCloud", options)
    assert prepared.text_for_engine == "ZXQ1 ZXQ2"
    assert finish_target_prefix("ZXQ", prepared.state, options) == ""
    assert finish_target_prefix("ZXQ1", prepared.state, options) == "Good morning"
    assert finish_target_prefix("ZXQ1 ZX", prepared.state, options) == "Good morning"
    assert finish_target_prefix("ZXQ1 ZXQ2", prepared.state, options) == "Good morning AcmeCloud"
    # a lost placeholder is not re-inserted into a prefix: it may still come
    assert finish_target_prefix("Hello", prepared.state, options) == "Hello"


@pytest.mark.parametrize(
    "source",
    [
        "Guten Morgen liebe Leute bei AcmeCloud",
        "Das kostet USD 20 oder 30 EUR pro Monat",
        "Rufen Sie +49 30 1234567 oder 612 345 678 an",
        "Der Zug fährt um 9:05 p.m. mit 90 km/h und 5 km weit",
        "Kaufen Sie das Model 3 heute",
        "Zahlen 1 2 3 4 5",
    ],
)
def test_streaming_source_never_changes_words_already_sent(source: str) -> None:
    """Mirrors a simultaneous caller: after each pushed word it re-prepares the whole source so
    far and sends the engine words it has not sent yet."""
    g = Glossary.from_json(
        {"forced": {"Guten Morgen liebe Leute": "Hello folks"}, "protected": ["Model 3", "AcmeCloud"]}
    )
    options = opts(glossary=g)
    words = source.split()
    sent: list[str] = []
    for i in range(1, len(words) + 1):
        finished = i == len(words)
        prepared = prepare_source(" ".join(words[:i]), options, streaming=not finished)
        engine_words = prepared.text_for_engine.split()
        assert engine_words[: len(sent)] == sent, (i, engine_words, sent)
        sent = engine_words
        if not finished:
            assert " ".join(words[:i]).endswith(prepared.held_back)
    final = prepare_source(source, options)
    assert sent == final.text_for_engine.split()
    assert finish_target(" ".join(sent), final.state, options) == finish_target(
        final.text_for_engine, final.state, options
    )


def test_streaming_source_holds_back_partial_terms_and_numbers() -> None:
    g = Glossary.from_json({"forced": {"Guten Morgen": "Good morning"}})
    options = opts(glossary=g)
    assert prepare_source("Also Guten", options, streaming=True).held_back == "Guten"
    assert prepare_source("Es kostet USD", options, streaming=True).held_back == "USD"
    assert prepare_source("Es kostet USD 20", options, streaming=True).text_for_engine == "Es kostet"
    assert (
        prepare_source("Es kostet USD 20 heute", options, streaming=True).text_for_engine
        == "Es kostet ZXQ1 heute"
    )
    assert finish_target(
        "It costs ZXQ1", prepare_source("Es kostet USD 20", options).state, options, partial=True
    ) == ("It costs USD 20")
