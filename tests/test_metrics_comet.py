"""COMET: "not configured" without a checkpoint; the real load + predict path on a plumbing fixture."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

from rtt.errors import InvalidInput, ModelMissing
from rtt.metrics.comet import (
    COMET_ENV,
    NOT_CONFIGURED,
    CometScorer,
    comet_or_none,
    configured_checkpoint,
    format_comet,
)

_HAS_COMET = all(
    importlib.util.find_spec(m) is not None for m in ("comet", "torch", "transformers", "sentencepiece")
)


def test_not_configured_returns_none_and_prints_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(COMET_ENV, raising=False)
    assert configured_checkpoint() is None
    assert comet_or_none(["a"], ["b"], ["c"]) is None
    assert format_comet(None) == NOT_CONFIGURED == "COMET: not configured"
    assert format_comet(0.81234) == "COMET: 0.8123"
    monkeypatch.setenv(COMET_ENV, "  ")
    assert configured_checkpoint() is None


def test_configured_but_missing_checkpoint_raises(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(COMET_ENV, str(tmp_path / "nope" / "model.ckpt"))
    assert configured_checkpoint() == tmp_path / "nope" / "model.ckpt"
    with pytest.raises(ModelMissing):
        comet_or_none(["a"], ["b"], ["c"])


@pytest.fixture(scope="module")
def tiny_comet_scorer(tmp_path_factory: pytest.TempPathFactory) -> CometScorer:
    from tests.metrics_fixtures import build_tiny_comet_checkpoint

    ckpt = build_tiny_comet_checkpoint(tmp_path_factory.mktemp("tiny_comet"))
    return CometScorer(ckpt)


@pytest.mark.slow
@pytest.mark.skipif(not _HAS_COMET, reason="unbabel-comet/torch/transformers not installed (research extra)")
def test_real_comet_path_on_plumbing_fixture(
    tiny_comet_scorer: CometScorer, monkeypatch: pytest.MonkeyPatch
) -> None:
    srcs = ["el gato se sentó en la alfombra", "hoy hace buen tiempo", "vamos a la estación"]
    hyps = ["the cat sat on the mat", "the weather is nice today", "we go to the station"]
    refs = ["the cat sat on the mat", "it is nice weather today", "we are going to the station"]
    import torch

    # load_from_checkpoint runs with strict=False: check every saved weight really came back
    saved = torch.load(tiny_comet_scorer.checkpoint_path, map_location="cpu", weights_only=False)[
        "state_dict"
    ]
    loaded = tiny_comet_scorer._model.state_dict()
    assert saved.keys() == loaded.keys()
    assert all(torch.equal(saved[k], loaded[k]) for k in saved)

    seg = tiny_comet_scorer.segment_scores(srcs, hyps, refs)
    assert len(seg) == 3 and all(math.isfinite(x) for x in seg)
    # predict() sorts by length internally; scores must come back in input order
    assert tiny_comet_scorer.segment_scores(srcs[::-1], hyps[::-1], refs[::-1]) == pytest.approx(
        seg[::-1], abs=1e-5
    )
    assert tiny_comet_scorer.score(srcs, hyps, refs) == pytest.approx(sum(seg) / 3, abs=1e-6)
    # comet_or_none loads from the configured path (env var) through the same code
    monkeypatch.setenv(COMET_ENV, str(tiny_comet_scorer.checkpoint_path))
    assert comet_or_none(srcs, hyps, refs) == pytest.approx(sum(seg) / 3, abs=1e-5)
    with pytest.raises(InvalidInput):
        tiny_comet_scorer.score(srcs, hyps[:2], refs)
