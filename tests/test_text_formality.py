from __future__ import annotations

import pytest

from rtt.text.formality import check_register, formality_hint


def test_hints_per_language() -> None:
    assert "usted" in (formality_hint("es", "formal") or "")
    assert "tú" in (formality_hint("es", "informal") or "")
    assert "Sie" in (formality_hint("de", "formal") or "")
    assert "du" in (formality_hint("de", "informal") or "")
    assert "vous" in (formality_hint("fr", "formal") or "")
    assert "tu" in (formality_hint("fr", "informal") or "")
    assert formality_hint("es", "default") is None
    assert formality_hint("en", "formal") is None


@pytest.mark.parametrize(
    "lang, text, register",
    [
        ("es", "¿Puede usted enviarme el informe?", "formal"),
        ("es", "¿Puedes enviarme el informe?", "informal"),
        ("es", "Te llamo mañana, ¿vale?", "informal"),
        ("es", "El informe está listo.", "unknown"),
        ("es", "Usted dijo que tú vendrías.", "mixed"),
        ("de", "Können Sie mir den Bericht schicken?", "formal"),
        ("de", "Ich danke Ihnen für Ihre Hilfe.", "formal"),
        ("de", "Kannst du mir den Bericht schicken?", "informal"),
        ("de", "Ich sehe dich morgen.", "informal"),
        ("de", "Sie kommt morgen.", "formal"),  # sentence-initial "Sie" is only a weak cue
        ("de", "Sie sagt, dass du kommst.", "informal"),  # the weak cue loses to a strong one
        ("de", "Ich habe sie gesehen.", "unknown"),  # lower-case "sie" is she/they
        ("fr", "Pouvez-vous m'envoyer votre rapport ?", "formal"),
        ("fr", "Peux-tu m'envoyer ton rapport ?", "informal"),
        ("fr", "Je t'appelle demain.", "informal"),
        ("fr", "Le rapport est prêt.", "unknown"),
        ("fr", "J'ai un rendez-vous demain.", "unknown"),  # the noun, not the pronoun
        ("fr", "Tu as un rendez-vous ?", "informal"),
        ("fr", "Asseyez-vous, s'il vous plaît.", "formal"),
    ],
)
def test_register(lang: str, text: str, register: str) -> None:
    assert check_register(text, lang).register == register


def test_matches() -> None:
    formal = check_register("¿Puede usted venir?", "es")
    assert formal.matches("formal") is True
    assert formal.matches("informal") is False
    assert formal.matches("default") is True
    assert check_register("El informe está listo.", "es").matches("formal") is None
    assert check_register("Usted dijo que tú vendrías.", "es").matches("formal") is False
    assert check_register("anything", "ja").register == "unknown"
