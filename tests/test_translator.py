from __future__ import annotations

import pytest

from rtt.config import EngineConfig, MtConfig, RttConfig
from rtt.errors import BackendUnavailable, InvalidInput, UnsupportedLanguage
from rtt.mt.registry import EngineRegistry
from rtt.text.glossary import Glossary
from rtt.translator import Translator
from tests.fakes import DictionaryEngine

TABLE = {"hola": "hello", "a": "to", "todos": "everyone", "buenos": "good", "días": "morning", "gracias": "thanks"}


def make_translator(max_chars: int = 200, unavailable: tuple[str, ...] = ()) -> tuple[Translator, DictionaryEngine]:
    engine = DictionaryEngine(TABLE)

    def builder(name, cfg, store):  # type: ignore[no-untyped-def]
        if name in unavailable:
            raise BackendUnavailable(f"{name} not installed")
        return engine

    mt = MtConfig(
        engines={
            "fake": EngineConfig(backend="llama", model="unused"),
            "missing": EngineConfig(backend="apertium"),
        },
        tiers={"fast": {"*": ["fake"]}, "rule": {"*": ["missing"]}, "fallback": {"*": ["missing", "fake"]}},
    )
    config = RttConfig(mt=mt, text={"max_chars": max_chars, "max_batch": 4})  # type: ignore[arg-type]
    return Translator(config, engines=EngineRegistry(mt, builder=builder)), engine


def test_batch_keeps_order_and_count() -> None:
    t, _ = make_translator()
    out = t.translate(["hola a todos", "buenos días", "gracias"], "es", "en")
    assert [o.text for o in out] == ["hello to everyone", "good morning", "thanks"]
    assert all(o.engine == "dictionary-fake" and o.tier == "fast" for o in out)


@pytest.mark.parametrize(
    ("texts", "code"),
    [([""], "EMPTY_TEXT"), (["   "], "EMPTY_TEXT"), ([], "EMPTY_TEXT"), (["x" * 201], "TEXT_TOO_LONG"),
     (["a"] * 5, "BATCH_TOO_LARGE"), ([3], "INVALID_INPUT")],
)
def test_bad_text_is_a_structured_error(texts: list, code: str) -> None:  # type: ignore[type-arg]
    t, _ = make_translator()
    with pytest.raises(InvalidInput) as err:
        t.translate(texts, "es", "en")
    assert err.value.code == code


@pytest.mark.parametrize(("src", "tgt"), [("xx", "en"), ("es", "klingon"), ("es", "es")])
def test_unknown_pairs_are_rejected(src: str, tgt: str) -> None:
    t, _ = make_translator()
    with pytest.raises(UnsupportedLanguage):
        t.translate(["hola"], src, tgt)


def test_unknown_tier_is_rejected() -> None:
    t, _ = make_translator()
    with pytest.raises(InvalidInput, match="unknown tier"):
        t.translate(["hola"], "es", "en", tier="turbo")


def test_unavailable_engine_falls_back_to_next_in_tier() -> None:
    t, _ = make_translator(unavailable=("missing",))
    assert t.translate(["hola"], "es", "en", tier="fallback")[0].text == "hello"
    with pytest.raises(BackendUnavailable, match="missing not installed"):
        t.translate(["hola"], "es", "en", tier="rule")


def test_auto_source_detects_language() -> None:
    t, _ = make_translator(max_chars=500)
    out = t.translate(["Hola a todos, ¿cómo estáis? Gracias por venir a la reunión de hoy."], "auto", "en")
    assert out[0].detected_lang == "es" and out[0].source_lang == "es"


def test_forced_glossary_term_reaches_the_output() -> None:
    t, _ = make_translator()
    g = Glossary.from_json({"buenos días": "Good morning", "AcmeCloud": "AcmeCloud"})
    out = t.translate(["buenos días desde AcmeCloud"], "es", "en", glossary=g)[0].text
    assert "Good morning" in out and "AcmeCloud" in out


def test_simultaneous_translation_commits_words_with_lag() -> None:
    t, _ = make_translator()
    sim = t.simultaneous("es", "en", policy="wait-2", stabilization="aggressive")
    words = "hola a todos".split()
    updates = [sim.push(w, source_finished=i == len(words) - 1) for i, w in enumerate(words)]
    assert updates[-1].finished
    assert updates[-1].committed_text == "hello to everyone"
    assert [w.source_read for w in sim.policy.emitted] == [2, 3, 3]
    sim.reset()
    assert sim.policy.committed_text == ""


def test_final_tier_retranslates_the_finished_sentence() -> None:
    t, fast = make_translator()
    accurate = DictionaryEngine({**TABLE, "todos": "all"})
    sim = t.simultaneous("es", "en", policy="wait-1", stabilization="aggressive")
    sim.final_engine = accurate
    first = sim.push("hola a")
    assert first.committed_text == "hello to"
    last = sim.push("todos", source_finished=True)
    assert last.finished and last.revised
    assert last.committed_text == "hello to all"
    assert sim.policy.finished and not fast.calls[-1][0].source_complete


def test_formality_request_skips_an_engine_that_cannot_follow_it() -> None:
    rule, llm = DictionaryEngine(TABLE), DictionaryEngine(TABLE)
    rule.name, llm.name = "rule-fake", "llm-fake"
    rule.honors_formality = False  # type: ignore[attr-defined]
    engines = {"rule": rule, "llm": llm}
    mt = MtConfig(
        engines={n: EngineConfig(backend="apertium") for n in engines},
        tiers={"fast": {"*": ["rule", "llm"]}, "rule-only": {"*": ["rule"]}},
    )
    t = Translator(RttConfig(mt=mt), engines=EngineRegistry(mt, builder=lambda n, c, s: engines[n]))
    assert t.translate(["hola"], "en", "es")[0].engine == "rule-fake"  # first in the tier
    assert t.translate(["hola"], "en", "es", formality="formal")[0].engine == "llm-fake"
    # English marks no register: nothing to honour, the first engine stays
    assert t.translate(["hola"], "es", "en", formality="formal")[0].engine == "rule-fake"
    # a tier with no engine that can follow it still serves (the register is best-effort)
    assert t.translate(["hola"], "en", "es", tier="rule-only", formality="formal")[0].engine == "rule-fake"
