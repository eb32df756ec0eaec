from __future__ import annotations

import pytest

from rtt.text.formatting import digit_groups_like, find_formatting, localize_number, localize_span


def spans(text: str) -> list[tuple[str, str]]:
    return [(s.kind, s.text) for s in find_formatting(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Pay $1,234.50 now", [("currency", "$1,234.50")]),
        ("Cuesta 1.234,50 € hoy", [("currency", "1.234,50 €")]),
        ("USD 20 or 30 EUR or €10k", [("currency", "USD 20"), ("currency", "30 EUR"), ("currency", "€10k")]),
        (
            "On 2024-03-12 and 12/03/2024 and 03.04.2024",
            [("date", "2024-03-12"), ("date", "12/03/2024"), ("date", "03.04.2024")],
        ),
        (
            "At 14:30, 9:05 p.m., 20h30 or 5 pm",
            [("time", "14:30"), ("time", "9:05 p.m."), ("time", "20h30"), ("time", "5 pm")],
        ),
        (
            "5 km, 3,5 kg, 20 °C, 90 km/h, 64 GB",
            [("unit", "5 km"), ("unit", "3,5 kg"), ("unit", "20 °C"), ("unit", "90 km/h"), ("unit", "64 GB")],
        ),
        ("50% and 25 %", [("percent", "50%"), ("percent", "25 %")]),
        ("See https://example.com/a?b=1.", [("url", "https://example.com/a?b=1")]),
        (
            "Wiki (https://en.wikipedia.org/wiki/Foo_(bar)).",
            [("url", "https://en.wikipedia.org/wiki/Foo_(bar)")],
        ),
        ("Visit www.acme.io/x or acmecloud.com.", [("url", "www.acme.io/x"), ("url", "acmecloud.com")]),
        ("Mail a.b+c@example.co.uk, thanks", [("email", "a.b+c@example.co.uk")]),
        ("Call +34 612 345 678 or 555-1234", [("digits", "+34 612 345 678"), ("digits", "555-1234")]),
        (
            "In 2020 there were 1.5 million and 3.14159",
            [("number", "2020"), ("number", "1.5"), ("number", "3.14159")],
        ),
    ],
)
def test_detection(text: str, expected: list[tuple[str, str]]) -> None:
    assert spans(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("COVID-19 spreads", []),
        ("Node.js v2 is the 3rd", []),
        ("5 min later", [("number", "5")]),
        ("In 2023 120 people came", [("number", "2023"), ("number", "120")]),
    ],
)
def test_words_with_digits_are_not_split(text: str, expected: list[tuple[str, str]]) -> None:
    assert spans(text) == expected


def test_numbers_inside_urls_and_emails_are_not_separate_spans() -> None:
    assert spans("https://x.com/2024/03 and bob2@x.org") == [
        ("url", "https://x.com/2024/03"),
        ("email", "bob2@x.org"),
    ]


@pytest.mark.parametrize(
    "token, src, tgt, out",
    [
        ("1,234.5", "en", "es", "1.234,5"),
        ("1,234.5", "en", "de", "1.234,5"),
        ("1,234.5", "en", "fr", "1\u202f234,5"),
        ("1.234,5", "de", "en", "1,234.5"),
        ("3.5", "en", "de", "3,5"),
        ("3,5", "es", "en", "3.5"),
        ("1.234", "en", "es", "1,234"),  # English decimal point
        ("1.234", "es", "en", "1,234"),  # Spanish thousands
        ("2024", "en", "de", "2024"),
        ("1,5", "en", "es", "1,5"),  # not an English number: unchanged
        ("1,234.5", "en", "en", "1,234.5"),
        ("1,234.5", "es", "de", "1,234.5"),  # same conventions: unchanged
        ("1,234.5", "en", "xx", "1,234.5"),
    ],
)
def test_localize_number(token: str, src: str, tgt: str, out: str) -> None:
    assert localize_number(token, src, tgt) == out


def test_localize_span_only_touches_numeric_kinds() -> None:
    assert localize_span("$1,234.50", "currency", "en", "de") == "$1.234,50"
    assert localize_span("2.5 GB", "unit", "en", "es") == "2,5 GB"
    assert localize_span("12.03.2024", "date", "de", "en") == "12.03.2024"


def test_digit_groups() -> None:
    assert digit_groups_like("612 345 678")
    assert digit_groups_like("+49 30 1234567")
    assert not digit_groups_like("2023 120")
    assert not digit_groups_like("1.234.567")
    assert not digit_groups_like("2024-03-12")
    assert not digit_groups_like("4111 1111 1111 1111")
    assert digit_groups_like("4111 1111 1111 1111", max_digits=19)
