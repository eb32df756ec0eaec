from __future__ import annotations

import pytest

from rtt.text.masking import (
    PROFANITY,
    find_pii,
    iban_valid,
    luhn_valid,
    mask_pii,
    mask_profanity,
    redact_for_logs,
)


def test_luhn() -> None:
    assert luhn_valid("4111111111111111")
    assert luhn_valid("5500005555555559")
    assert luhn_valid("79927398713")
    assert not luhn_valid("4111111111111112")
    assert not luhn_valid("79927398710")
    assert not luhn_valid("")


def test_iban_mod97() -> None:
    assert iban_valid("DE89 3704 0044 0532 0130 00")
    assert iban_valid("GB82WEST12345698765432")
    assert iban_valid("ES9121000418450200051332")
    assert not iban_valid("DE89 3704 0044 0532 0130 01")
    assert not iban_valid("GB82WEST1234569876543")


@pytest.mark.parametrize(
    "text, masked",
    [
        ("Write to john.doe@example.com today", "Write to [EMAIL] today"),
        ("Call +34 612 345 678, please", "Call [PHONE], please"),
        ("Llama al 612 345 678 o al 555-1234.", "Llama al [PHONE] o al [PHONE]."),
        ("Ruf (030) 1234567 an", "Ruf [PHONE] an"),
        ("Card 4111 1111 1111 1111 expires", "Card [CARD] expires"),
        ("Card 4111-1111-1111-1111.", "Card [CARD]."),
        ("IBAN DE89 3704 0044 0532 0130 00 EUR", "IBAN [IBAN] EUR"),
        ("IBAN: GB82WEST12345698765432.", "IBAN: [IBAN]."),
    ],
)
def test_pii_is_masked(text: str, masked: str) -> None:
    assert mask_pii(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "Card 4111 1111 1111 1112 fails Luhn",  # 16 digits, not a card and too long for a phone
        "IBAN DE89 3704 0044 0532 0130 01 fails mod-97",
        "On 2024-03-12 and 12/03/2024 at 14:30",
        "It costs 1.234.567 euros",
        "In 2023 120 people came",
        "Room 42, version 3.5",
    ],
)
def test_non_pii_is_kept(text: str) -> None:
    assert mask_pii(text) == text


def test_find_pii_reports_spans() -> None:
    found = find_pii("a@b.org and 4111111111111111")
    assert [(s.text, s.replacement) for s in found] == [
        ("a@b.org", "[EMAIL]"),
        ("4111111111111111", "[CARD]"),
    ]


def test_redact_for_logs() -> None:
    text = "user bob@example.com paid with 4111 1111 1111 1111, order 98765432101"
    assert redact_for_logs(text, max_chars=None) == "user [EMAIL] paid with [CARD], order [PHONE]"
    assert redact_for_logs("order id 123456 ok") == "order id [NUMBER] ok"
    long = redact_for_logs("x" * 500, max_chars=100)
    assert long.startswith("x" * 100) and long.endswith("(+400 chars)")


@pytest.mark.parametrize(
    "lang, text, masked",
    [
        ("en", "What the fuck, this is Shit!", "What the f***, this is S***!"),
        ("en", "an assistant in Scunthorpe passed the class", "an assistant in Scunthorpe passed the class"),
        ("es", "Joder, qué mierda de día", "J****, qué m***** de día"),
        ("es", "Voy con mi hermano", "Voy con mi hermano"),
        ("de", "So ein Scheißkerl, verdammt!", "So ein S*********, v*******!"),
        ("fr", "Putain, fais chier", "P*****, f*** c****"),
        ("fr", "Il est con", "Il est con"),  # deliberately not on the list: too ambiguous
    ],
)
def test_profanity(lang: str, text: str, masked: str) -> None:
    assert mask_profanity(text, lang) == masked


def test_profanity_lists_cover_core_languages_and_unknown_language_is_untouched() -> None:
    assert {"en", "es", "de", "fr"} <= set(PROFANITY)
    assert mask_profanity("fuck", "ja") == "fuck"
