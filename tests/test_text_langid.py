from __future__ import annotations

from pathlib import Path

import pytest

from rtt.errors import InvalidInput
from rtt.languages import LANGUAGES
from rtt.text.langid import TextLanguageIdentifier, default_identifier, identify_language

FLORES = {"en": "eng", "es": "spa", "de": "deu", "fr": "fra"}


@pytest.fixture(scope="module")
def identifier() -> TextLanguageIdentifier:
    return default_identifier()


def test_restricted_to_product_languages(identifier: TextLanguageIdentifier) -> None:
    assert set(identifier.languages) == set(LANGUAGES)
    assert {code for code, _ in identifier.rank("Bonjour tout le monde")} == set(LANGUAGES)


@pytest.mark.parametrize(
    "text, code",
    [
        ("The weather is lovely today and we are going to the beach.", "en"),
        ("El tiempo es estupendo hoy y vamos a ir a la playa.", "es"),
        ("Das Wetter ist heute schön und wir gehen an den Strand.", "de"),
        ("Il fait beau aujourd'hui et nous allons à la plage.", "fr"),
    ],
)
def test_identify(text: str, code: str, identifier: TextLanguageIdentifier) -> None:
    got, confidence = identifier.identify(text)
    assert got == code
    assert 0.5 < confidence <= 1.0


@pytest.mark.parametrize("text", ["", "   ", "12345 !!", None])
def test_empty_or_letterless_text_is_invalid(text: object) -> None:
    with pytest.raises(InvalidInput):
        identify_language(text)  # type: ignore[arg-type]


def test_subset_of_languages() -> None:
    only = TextLanguageIdentifier(["es", "en"])
    assert only.languages == ("es", "en")
    assert only.identify("Guten Morgen, wie geht es dir?")[0] in ("es", "en")
    for bad in (["es", "xx"], []):
        with pytest.raises(InvalidInput):
            TextLanguageIdentifier(bad)


def test_flores_accuracy(shared_data: Path, identifier: TextLanguageIdentifier) -> None:
    """FLORES-200 devtest lines 1-200 per language; the measured value is in docs/text-features.md."""
    total = correct = 0
    for code, suffix in FLORES.items():
        lines = (
            (shared_data / "flores200" / f"devtest-1-506.{suffix}")
            .read_text(encoding="utf-8")
            .splitlines()[:200]
        )
        for line in lines:
            total += 1
            correct += identifier.identify(line)[0] == code
    assert total == 800
    assert correct / total >= 0.98
