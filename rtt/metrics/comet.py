"""COMET, only when a checkpoint is configured.

COMET checkpoints (e.g. Unbabel/wmt22-comet-da) are downloaded from a model hub, which this
project never does at run time.  A user who has one locally points ``RTT_COMET_CHECKPOINT`` (or
the ``checkpoint_path`` argument) at its ``checkpoints/model.ckpt``; its ``hparams.yaml`` sits two
folders up and its encoder (``pretrained_model`` in the hparams) must already be in the local
Hugging Face cache or be a local folder.  Without one, COMET is reported as "not configured"
(JSON ``null``), never replaced by another number.

``comet`` (unbabel-comet) and torch are imported only when a scorer is built: they live in the
``research`` extra and take seconds to import.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rtt.errors import BackendUnavailable, InvalidInput, ModelMissing

COMET_ENV = "RTT_COMET_CHECKPOINT"
NOT_CONFIGURED = "COMET: not configured"


def configured_checkpoint(checkpoint_path: str | os.PathLike[str] | None = None) -> Path | None:
    """The argument if given, else ``$RTT_COMET_CHECKPOINT``, else None (empty counts as unset)."""
    raw = os.fspath(checkpoint_path) if checkpoint_path is not None else os.environ.get(COMET_ENV, "")
    return Path(raw).expanduser() if raw.strip() else None


class CometScorer:
    """A loaded COMET model; build once, score many corpora."""

    def __init__(
        self,
        checkpoint_path: str | os.PathLike[str],
        batch_size: int = 8,
        gpus: int = 0,
    ) -> None:
        path = Path(checkpoint_path).expanduser()
        if not path.is_file():
            raise ModelMissing(f"COMET checkpoint not found: {path}", path=str(path))
        try:
            from comet import load_from_checkpoint
        except ImportError as exc:  # the research extra is not installed
            raise BackendUnavailable(
                "COMET needs the 'unbabel-comet' package (pip install 'rtt[research]')", error=str(exc)
            ) from exc
        # local_files_only: an encoder missing from the local cache must fail, not download.
        self._model: Any = load_from_checkpoint(str(path), local_files_only=True)
        self.checkpoint_path = path
        self.batch_size = batch_size
        self.gpus = gpus

    def segment_scores(self, srcs: Sequence[str], hyps: Sequence[str], refs: Sequence[str]) -> list[float]:
        if not (len(srcs) == len(hyps) == len(refs)):
            raise InvalidInput(
                "srcs, hyps and refs must have the same length",
                srcs=len(srcs),
                hyps=len(hyps),
                refs=len(refs),
            )
        if not srcs:
            raise InvalidInput("cannot score an empty corpus")
        samples = [{"src": s, "mt": h, "ref": r} for s, h, r in zip(srcs, hyps, refs, strict=True)]
        out = self._model.predict(
            samples, batch_size=self.batch_size, gpus=self.gpus, progress_bar=False, num_workers=0
        )
        return [float(x) for x in out.scores]

    def score(self, srcs: Sequence[str], hyps: Sequence[str], refs: Sequence[str]) -> float:
        """System score: the mean of segment scores, as COMET reports it."""
        scores = self.segment_scores(srcs, hyps, refs)
        return sum(scores) / len(scores)


def comet_or_none(
    srcs: Sequence[str],
    hyps: Sequence[str],
    refs: Sequence[str],
    checkpoint_path: str | os.PathLike[str] | None = None,
    scorer: CometScorer | None = None,
) -> float | None:
    """COMET system score, or None when no checkpoint is configured (a configured but broken
    checkpoint raises: a silent None would hide it)."""
    if scorer is None:
        path = configured_checkpoint(checkpoint_path)
        if path is None:
            return None
        scorer = CometScorer(path)
    return scorer.score(srcs, hyps, refs)


def format_comet(value: float | None) -> str:
    """The report line: "COMET: 0.8123" or "COMET: not configured"."""
    return NOT_CONFIGURED if value is None else f"COMET: {value:.4f}"
