from __future__ import annotations

import pytest

from rtt.errors import InvalidInput
from rtt.text.glossary import MAX_ENTRIES, Glossary, merge_glossaries


def test_structured_shape() -> None:
    g = Glossary.from_json({"protected": ["AcmeCloud"], "forced": {"Guten Morgen": "Good morning"}})
    assert g.protected_terms == ["AcmeCloud"]
    assert g.forced == {"Guten Morgen": "Good morning"}
    assert len(g) == 2


def test_plain_dict_shape_same_value_means_protected() -> None:
    g = Glossary.from_json({"AcmeCloud": "AcmeCloud", "nube": "cloud"})
    assert g.protected_terms == ["AcmeCloud"]
    assert g.forced == {"nube": "cloud"}


def test_plain_dict_may_contain_a_term_called_forced() -> None:
    assert Glossary.from_json({"forced": "erzwungen"}).forced == {"forced": "erzwungen"}
    assert Glossary.from_json({"protected": "geschützt"}).forced == {"protected": "geschützt"}


@pytest.mark.parametrize(
    "raw, words",
    [
        (["AcmeCloud"], "JSON object"),
        ("AcmeCloud", "JSON object"),
        ({"protected": [1]}, "must be strings"),
        ({"forced": {"a": 2}}, "must be strings"),
        ({"nube": None}, "must be strings"),
        ({"": "x"}, "must not be empty"),
        ({"  ": "x"}, "must not be empty"),
        ({"nube": ""}, "must not be empty"),
        ({"x" * 201: "y"}, "limit is 200"),
    ],
)
def test_invalid_glossaries(raw: object, words: str) -> None:
    with pytest.raises(InvalidInput) as info:
        Glossary.from_json(raw)
    assert words in info.value.message
    assert info.value.code == "INVALID_GLOSSARY"


def test_too_many_entries() -> None:
    raw = {f"term{i}": f"t{i}" for i in range(MAX_ENTRIES + 1)}
    with pytest.raises(InvalidInput, match="limit is 1000"):
        Glossary.from_json(raw)
    assert len(Glossary.from_json(dict(list(raw.items())[:MAX_ENTRIES]))) == MAX_ENTRIES


def test_match_is_case_insensitive_on_word_boundaries() -> None:
    g = Glossary.from_json({"protected": ["Acme"], "forced": {"nube": "cloud"}})
    matches = g.find("ACME usa la NUBE; Acmes y nubes no.")
    assert [(m.source, m.target, m.forced) for m in matches] == [
        ("ACME", "ACME", False),
        ("NUBE", "cloud", True),
    ]


def test_longest_match_first() -> None:
    g = Glossary.from_json({"protected": ["Acme", "Acme Cloud Pro", "Acme Cloud"]})
    assert [m.source for m in g.find("Try Acme Cloud Pro, Acme Cloud or Acme.")] == [
        "Acme Cloud Pro",
        "Acme Cloud",
        "Acme",
    ]


def test_multiword_terms_match_any_whitespace_and_non_word_edges() -> None:
    g = Glossary.from_json({"forced": {"Guten Morgen": "Good morning", "C++": "C++"}})
    found = g.find("guten\n  Morgen, ich mag C++.")
    assert [m.target for m in found] == ["Good morning", "C++"]


def test_pending_words_for_streaming_sources() -> None:
    g = Glossary.from_json({"forced": {"Guten Morgen liebe Leute": "Hello folks"}})
    assert g.pending_words("Also guten") == 1
    assert g.pending_words("Also guten Morgen") == 2
    assert g.pending_words("Also guten Morgen liebe Leute") == 0
    assert g.pending_words("Also gut") == 0


def test_merge_request_wins() -> None:
    session = Glossary.from_json({"protected": ["AcmeCloud", "nube"], "forced": {"hola": "hi"}})
    request = Glossary.from_json({"forced": {"nube": "cloud", "HOLA": "hello"}, "protected": ["NovaDesk"]})
    merged = merge_glossaries(session, request)
    assert merged is not None
    assert sorted(merged.protected_terms) == ["AcmeCloud", "NovaDesk"]
    assert merged.forced == {"nube": "cloud", "HOLA": "hello"}
    assert merge_glossaries(None, request) is request
    assert merge_glossaries(session, None) is session
    assert merge_glossaries(None, None) is None


def test_merge_enforces_the_size_limit() -> None:
    a = Glossary.from_json({f"a{i}": f"x{i}" for i in range(600)})
    b = Glossary.from_json({f"b{i}": f"y{i}" for i in range(600)})
    with pytest.raises(InvalidInput):
        merge_glossaries(a, b)


def test_round_trip_json() -> None:
    g = Glossary.from_json({"protected": ["A"], "forced": {"b": "c"}})
    assert Glossary.from_json(g.to_json()) == g
