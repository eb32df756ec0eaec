"""Prompt rendering (no model): what stays fixed comes first, the committed target is forced,
and a base model is shown the requested register."""

from __future__ import annotations

from rtt.mt.base import MtRequest
from rtt.mt.prompts import PROMPTS
from rtt.text.formality import check_register


def test_chatml_forces_the_committed_target_last() -> None:
    text = PROMPTS["chatml"].render(MtRequest("Hola a todos", "es", "en", target_prefix="Hello"))
    assert text.endswith("<|im_start|>assistant\nHello")
    assert "Spanish" in text and "English" in text


def test_growing_source_keeps_the_instructions_as_a_common_prefix() -> None:
    a = PROMPTS["chatml"].render(MtRequest("Hola", "es", "en", source_complete=False))
    b = PROMPTS["chatml"].render(MtRequest("Hola a todos", "es", "en", source_complete=False))
    cut = a.index("Hola")
    assert a[:cut] == b[:cut]


def test_fewshot_examples_carry_the_requested_register() -> None:
    for lang in ("es", "de", "fr"):
        for register in ("formal", "informal"):
            text = PROMPTS["fewshot"].render(MtRequest("Send it to me.", "en", lang, formality=register))
            examples = text.rsplit("\n\n", 1)[0]  # the example pairs, not the request
            assert check_register(examples, lang).register == register, (lang, register, examples)


def test_fewshot_prefix_is_continued_after_the_target_label() -> None:
    text = PROMPTS["fewshot"].render(MtRequest("Hola a todos", "es", "en", target_prefix="Hello"))
    assert text.endswith("Spanish: Hola a todos\nEnglish: Hello")


def test_parts_cut_the_prompt_where_it_grows() -> None:
    short = MtRequest("Hola", "es", "en", source_complete=False)
    grown = MtRequest("Hola a todos", "es", "en", target_prefix="Hello", source_complete=False)
    for fmt in PROMPTS.values():
        a, b = fmt.parts(short), fmt.parts(grown)
        assert a.text == fmt.render(short) and b.text == fmt.render(grown)
        assert (a.head, a.sep) == (b.head, b.sep), fmt.name
        assert (a.source, b.source) == ("Hola", "Hola a todos")
        assert b.target.strip() == "Hello"
