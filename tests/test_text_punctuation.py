from __future__ import annotations

import pytest

from rtt.text.punctuation import restore_punctuation, strip_punctuation


@pytest.mark.parametrize(
    "text, stripped",
    [
        ("Hello, world! How are you?", "Hello world How are you"),
        ("¿Qué tal? «Bien», gracias.", "Qué tal Bien gracias"),
        ("It costs 3.5 euros.", "It costs 3.5 euros"),
        ("Pay $1,234.50 by 12.03.2024.", "Pay $1,234.50 by 12.03.2024"),
        ("See https://example.com/a?b=1. Thanks!", "See https://example.com/a?b=1 Thanks"),
        ("Mail a.b@example.org, or call.", "Mail a.b@example.org or call"),
        ("Write to [EMAIL].", "Write to [EMAIL]"),
        ("Node.js and l'homme - well-known (ok).", "Node.js and l'homme well-known ok"),
        ("At 9:05 a.m. sharp.", "At 9:05 a.m. sharp"),
        ("...", ""),
    ],
)
def test_strip(text: str, stripped: str) -> None:
    assert strip_punctuation(text) == stripped


@pytest.mark.parametrize(
    "lang, text, restored",
    [
        ("en", "hello how are you i'm fine", "Hello how are you I'm fine."),
        ("en", "what time is it", "What time is it?"),
        ("en", "  it works.  ", "It works."),
        ("en", "first one. second one", "First one. Second one."),
        ("es", "qué hora es", "¿Qué hora es?"),
        ("es", "por qué no vienes", "¿Por qué no vienes?"),
        ("es", "hola a todos", "Hola a todos."),
        ("de", "wie spät ist es", "Wie spät ist es?"),
        ("fr", "où est la gare", "Où est la gare?"),
        ("fr", "bonjour à tous", "Bonjour à tous."),
        ("en", "", ""),
    ],
)
def test_restore(lang: str, text: str, restored: str) -> None:
    assert restore_punctuation(text, lang) == restored
