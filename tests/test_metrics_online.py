"""Reference-free quality signals of live finals (rtt/metrics/online.py), on real language ID."""

import threading
import time

import pytest

from rtt.metrics.online import RollingQe, tier_agreement, untranslated, wrong_language
from rtt.metrics.qe import qe_available


def test_untranslated_is_an_empty_output_or_an_echo_of_the_source() -> None:
    assert untranslated("", "hola amigo") and untranslated("Hola, amigo.", "hola amigo")
    assert not untranslated("Hello, friend.", "hola amigo")
    assert not untranslated("2024", "2024")  # numbers carry over unchanged


def test_wrong_language_needs_a_confident_id_on_enough_words() -> None:
    assert wrong_language("El gato duerme en la casa de mi abuela.", "en")
    assert not wrong_language("The cat sleeps in my grandmother's house.", "en")
    assert not wrong_language("Hola amigo", "en")  # two words: no verdict


def test_tier_agreement_is_100_when_the_refinement_agreed() -> None:
    assert tier_agreement("The cat sleeps.", "the cat sleeps") == 100.0
    close = tier_agreement("The cat is sleeping in the house.", "The cat sleeps in the house.")
    far = tier_agreement("The cat is sleeping in the house.", "Tomorrow it will rain in Paris.")
    assert 100 > close > far >= 0


@pytest.mark.skipif(not qe_available(), reason="QE encoder (rtt[research]) not installed")
def test_rolling_qe_scores_finals_off_the_caller_thread_per_direction() -> None:
    qe = RollingQe(window=2)
    try:
        assert qe.offer("de-en", "Der Hund läuft über die Straße.", "The dog runs across the street.")
        assert not qe.offer("de-en", "Der Hund.", "")  # nothing to score
        deadline = time.monotonic() + 60
        while not qe.means() and time.monotonic() < deadline:
            time.sleep(0.05)
        good = qe.means()["de-en"]
        qe.offer("de-en", "Der Hund läuft über die Straße.", "Stock markets closed lower on Friday.")
        qe.offer("de-en", "Der Hund läuft über die Straße.", "Stock markets closed lower on Friday.")
        while qe._pending and time.monotonic() < deadline:
            time.sleep(0.05)
        # the window holds the last two: both unrelated, so the mean fell
        assert qe.means()["de-en"] < good and 0.5 < good <= 1
    finally:
        qe.close()


def test_rolling_qe_never_builds_a_backlog() -> None:
    release = threading.Event()

    class SlowScorer:  # plumbing: holds the worker so the queue fills; the scoring is tested above
        def segment_scores(self, srcs: list[str], hyps: list[str]) -> list[float]:
            release.wait(10)
            return [0.5]

    qe = RollingQe(max_pending=2, scorer_factory=SlowScorer)
    try:
        offered = [qe.offer("es-en", "hola", "hello") for _ in range(5)]
        assert offered == [True, True, False, False, False] and qe.skipped == 3
    finally:
        release.set()
        qe.close()
