"""chrF and BLEU against values worked out by hand from their definitions."""

from __future__ import annotations

import math

import pytest

from rtt.errors import InvalidInput
from rtt.metrics.quality import bleu_tokenizer_for, corpus_bleu, corpus_chrf, sentence_chrf


def test_bleu_identical_is_100() -> None:
    s = corpus_bleu(["the cat sat on the mat"], ["the cat sat on the mat"])
    assert s.name == "BLEU"
    assert s.score == pytest.approx(100.0)


def test_bleu_hand_computed_with_exp_smoothing() -> None:
    # n-gram precisions 5/6, 3/5, 1/4, and 0/3 smoothed by sacrebleu's 'exp' to 1/(2*3);
    # equal lengths -> BP = 1; BLEU = (5/6 * 3/5 * 1/4 * 1/6) ** (1/4)
    s = corpus_bleu(["the cat is on the mat"], ["the cat sat on the mat"])
    expected = 100 * (5 / 6 * 3 / 5 * 1 / 4 * 1 / 6) ** 0.25
    assert s.score == pytest.approx(expected, abs=1e-6)


def test_bleu_brevity_penalty() -> None:
    # every n-gram matches, hyp 4 words vs ref 6 -> BP = exp(1 - 6/4)
    s = corpus_bleu(["the cat sat on"], ["the cat sat on the mat"])
    assert s.score == pytest.approx(100 * math.exp(1 - 6 / 4), abs=1e-6)


def test_bleu_signature_and_tokenizer_per_language() -> None:
    en = corpus_bleu(["a b c d"], ["a b c d"], target_lang="en")
    zh = corpus_bleu(["我们去学校"], ["我们去学校"], target_lang="zh")
    assert "tok:13a" in en.signature and "version:2.5.1" in en.signature and "nrefs:1" in en.signature
    assert "tok:zh" in zh.signature
    assert bleu_tokenizer_for("ja") == "char"
    assert bleu_tokenizer_for("de") == "13a"
    assert bleu_tokenizer_for(None) == "13a"
    assert "tok:intl" in corpus_bleu(["a"], ["a"], tokenize="intl").signature


def test_zh_tokenizer_changes_the_score() -> None:
    # Without the zh tokenizer a spaceless sentence is one token: any difference scores ~0.
    hyp, ref = ["我们今天去学校"], ["我们明天去学校"]
    assert corpus_bleu(hyp, ref, target_lang="zh").score > corpus_bleu(hyp, ref, tokenize="13a").score


def test_chrf_hand_computed_single_segment() -> None:
    # hyp "ab" / ref "abc": 1-grams P=2/2 R=2/3; 2-grams P=1/1 R=1/2; higher orders absent.
    # sacrebleu 2.x averages P and R over the effective orders: P=1, R=7/12, F(beta=2) = 7/11
    s = corpus_chrf(["ab"], ["abc"])
    assert s.name == "chrF"
    assert s.score == pytest.approx(100 * 7 / 11, abs=1e-6)
    assert "nc:6" in s.signature and "nw:0" in s.signature


def test_chrf_is_corpus_level_not_mean_of_sentences() -> None:
    # Statistics are summed before the score: 1-grams P=R=3/4, 2-grams P=R=1/2 -> 62.5,
    # while the two sentence scores are 100 and 25.
    s = corpus_chrf(["ab", "ab"], ["ab", "ac"])
    assert s.score == pytest.approx(62.5, abs=1e-6)
    assert sentence_chrf("ab", "ab") == pytest.approx(100.0)
    assert sentence_chrf("ab", "ac") == pytest.approx(25.0, abs=1e-6)


def test_chrf_plus_plus_name_and_signature() -> None:
    s = corpus_chrf(["the cat sat"], ["the cat sat"], word_order=2)
    assert s.name == "chrF++"
    assert "nw:2" in s.signature
    assert s.score == pytest.approx(100.0)


def test_bad_inputs_raise_structured_errors() -> None:
    with pytest.raises(InvalidInput):
        corpus_chrf(["a", "b"], ["a"])
    with pytest.raises(InvalidInput):
        corpus_bleu([], [])
    with pytest.raises(InvalidInput):
        corpus_chrf("abc", "abc")  # type: ignore[arg-type]


def test_real_flores_references_rank_above_misaligned_ones(shared_data) -> None:  # type: ignore[no-untyped-def]
    refs = (shared_data / "flores200" / "devtest-1-506.spa").read_text(encoding="utf-8").splitlines()[:100]
    shifted = refs[1:] + refs[:1]  # real Spanish sentences, each against the wrong reference
    assert corpus_chrf(refs, refs).score == pytest.approx(100.0)
    misaligned = corpus_chrf(shifted, refs).score
    assert 5.0 < misaligned < 35.0  # same language and domain, no content overlap
    assert corpus_bleu(shifted, refs, target_lang="es").score < 5.0
