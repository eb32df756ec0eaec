"""Reference-free quality signals of live finals (rtt/metrics/online.py), on real language ID."""

from rtt.metrics.online import untranslated, wrong_language


def test_untranslated_is_an_empty_output_or_an_echo_of_the_source() -> None:
    assert untranslated("", "hola amigo") and untranslated("Hola, amigo.", "hola amigo")
    assert not untranslated("Hello, friend.", "hola amigo")
    assert not untranslated("2024", "2024")  # numbers carry over unchanged


def test_wrong_language_needs_a_confident_id_on_enough_words() -> None:
    assert wrong_language("El gato duerme en la casa de mi abuela.", "en")
    assert not wrong_language("The cat sleeps in my grandmother's house.", "en")
    assert not wrong_language("Hola amigo", "en")  # two words: no verdict
