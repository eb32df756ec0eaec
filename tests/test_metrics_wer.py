"""WER normalizer and counts against hand-aligned examples."""

from __future__ import annotations

import pytest

from rtt.errors import InvalidInput
from rtt.metrics.wer import (
    WerCounts,
    corpus_wer_counts,
    normalize_for_wer,
    utterance_wer,
    utterance_wer_counts,
    word_error_rate,
)


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("Hello, World!", "hello world"),
        ("Don\u2019t STOP\u2014now\u2026", "don't stop now"),  # curly apostrophe, em dash, ellipsis
        ("l\u2019homme \u00abquoi\u00bb", "l'homme quoi"),  # French elision and guillemets
        ("'quoted' words", "quoted words"),  # apostrophes at word edges are quotes
        ("rock 'n' roll", "rock n roll"),
        ("\u00bfQu\u00e9 tal?", "qu\u00e9 tal"),  # inverted question mark
        ("\uff21\uff22\uff23\uff11\uff12\uff13", "abc123"),  # full-width forms fold under NFKC
        ("Que\u0301 bien", "qu\u00e9 bien"),  # combining accent composes under NFKC
        ("  many \t spaces\n here ", "many spaces here"),
        ("well-known 3.5 $10 50%", "well known 3 5 $10 50"),  # '-', '.', '%' are Unicode punctuation
        ("", ""),
    ],
)
def test_normalizer(raw: str, normalized: str) -> None:
    assert normalize_for_wer(raw) == normalized


def test_substitution_and_deletion() -> None:
    # ref: the cat sat on the mat / hyp: the cat sit on mat -> S=1 (sat/sit), D=1 (the), H=4
    [c] = utterance_wer_counts(["The cat sat on the mat."], ["the cat sit on mat"])
    assert c == WerCounts(substitutions=1, deletions=1, insertions=0, hits=4)
    assert c.wer == pytest.approx(2 / 6)


def test_insertion() -> None:
    [c] = utterance_wer_counts(["a b c"], ["a x b c"])
    assert (c.insertions, c.errors, c.ref_words) == (1, 1, 3)


def test_corpus_wer_pools_errors_over_reference_words() -> None:
    refs = ["The cat sat on the mat.", "Hello world"]
    hyps = ["the cat sit on mat", "hello, WORLD!"]
    assert word_error_rate(refs, hyps) == pytest.approx(2 / 8)  # not mean(1/3, 0) = 1/6
    assert utterance_wer(refs, hyps) == pytest.approx([2 / 6, 0.0])


def test_empty_reference_counts_hypothesis_words_as_insertions() -> None:
    counts = utterance_wer_counts(["...", "a b"], ["uh huh", "a b"])
    assert counts[0] == WerCounts(0, 0, 2, 0)
    assert counts[0].wer == 2.0  # finite: errors over max(N, 1)
    assert corpus_wer_counts(["...", "a b"], ["uh huh", "a b"]).wer == pytest.approx(2 / 2)


def test_empty_hypothesis_is_all_deletions() -> None:
    assert word_error_rate(["one two three"], [""]) == pytest.approx(1.0)


def test_mismatched_lengths_raise() -> None:
    with pytest.raises(InvalidInput):
        word_error_rate(["a"], ["a", "b"])
    with pytest.raises(InvalidInput):
        word_error_rate([], [])
