"""Is a difference between two arms real?  Paired bootstrap resampling on the same segments.

* :func:`paired_bootstrap` — chrF or BLEU of two systems' outputs for the same references: the
  test of Koehn (2004) as sacrebleu implements it (``sacrebleu --paired-bs``, Moses'
  ``bootstrap-hypothesis-difference-significance.pl``): resample segment indices with
  replacement, recompute both corpus scores from their sufficient statistics on each resample,
  and count how often the centred resampled difference exceeds the observed one.  Same seed,
  same indices, same p-value as sacrebleu (``tests/test_eval_significance.py``).
* :func:`paired_bootstrap_stat` — the same test for any per-segment statistic (a latency
  percentile, a mean erasure): both arms' values of one segment stay paired in each resample.

Each result carries a signature of how it was computed (metric, resamples, seed), as sacrebleu's
scores do, so a table that shows a significance mark says what it means.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from rtt.errors import InvalidInput

DEFAULT_SAMPLES = 1000
DEFAULT_SEED = 12345  # sacrebleu's default (SACREBLEU_SEED)
ALPHA = 0.05


@dataclass(frozen=True)
class PairedResult:
    metric: str
    baseline: float  # the metric on all segments
    candidate: float
    p_value: float  # two-sided: a difference at least this large by chance
    ci: tuple[float, float]  # 95 % interval of candidate - baseline over the resamples
    n_segments: int
    n_samples: int
    seed: int | None

    @property
    def delta(self) -> float:
        return self.candidate - self.baseline

    @property
    def significant(self) -> bool:
        return self.p_value < ALPHA

    @property
    def signature(self) -> str:
        return f"{self.metric}|paired-bs|n:{self.n_samples}|seed:{self.seed}|segments:{self.n_segments}"

    def mark(self) -> str:
        """``*`` where the difference is significant at p < 0.05, else empty (tables)."""
        return "*" if self.significant else ""


def _indices(n: int, n_samples: int, seed: int | None) -> np.ndarray:
    # The same draw as sacrebleu's paired test, so the two agree resample for resample.
    return np.random.default_rng(seed).choice(n, size=(n_samples, n), replace=True)


def _p_value(sample_diffs: np.ndarray, observed: float) -> float:
    if observed == 0:
        return 1.0  # no difference to explain (sacrebleu's count would say 1/(n+1))
    centred = sample_diffs - sample_diffs.mean()
    return float((np.sum(centred > observed) + 1) / (len(centred) + 1))


def _metric(name: str, tgt_lang: str | None) -> object:
    from sacrebleu.metrics import BLEU, CHRF

    if name == "chrf":
        return CHRF()
    if name == "bleu":
        from rtt.metrics.quality import bleu_tokenizer_for

        return BLEU(tokenize=bleu_tokenizer_for(tgt_lang)) if tgt_lang else BLEU()
    raise InvalidInput(f"unknown metric {name!r} (chrf or bleu)", field="metric")


def paired_bootstrap(
    baseline: Sequence[str], candidate: Sequence[str], references: Sequence[str], *, metric: str = "chrf",
    tgt_lang: str | None = None, n_samples: int = DEFAULT_SAMPLES, seed: int | None = DEFAULT_SEED,
) -> PairedResult:
    """chrF (default) or BLEU of ``candidate`` against ``baseline`` on the same segments."""
    n = len(references)
    if not (len(baseline) == len(candidate) == n) or n == 0:
        raise InvalidInput(f"paired bootstrap needs equal, non-empty lists ({len(baseline)}, {len(candidate)}, {n})")
    m = _metric(metric, tgt_lang)
    refs = [list(references)]
    # sacrebleu's sufficient statistics per segment: a corpus score is a function of their sum.
    stats_b = np.array(m._extract_corpus_statistics(list(baseline), refs), dtype="float32")  # type: ignore[attr-defined]
    stats_c = np.array(m._extract_corpus_statistics(list(candidate), refs), dtype="float32")  # type: ignore[attr-defined]
    score = m._compute_score_from_stats  # type: ignore[attr-defined]
    full_b = float(m._aggregate_and_compute(stats_b.tolist()).score)  # type: ignore[attr-defined]
    full_c = float(m._aggregate_and_compute(stats_c.tolist()).score)  # type: ignore[attr-defined]
    idx = _indices(n, n_samples, seed)
    res_b = np.array([score(s.sum(0)).score for s in stats_b[idx]])
    res_c = np.array([score(s.sum(0)).score for s in stats_c[idx]])
    p = _p_value(np.abs(res_c - res_b), abs(full_c - full_b))
    lo, hi = np.percentile(res_c - res_b, [2.5, 97.5])
    return PairedResult(metric, full_b, full_c, p, (float(lo), float(hi)), n, n_samples, seed)


def percentile_of(q: float) -> Callable[[np.ndarray], float]:
    """A statistic for :func:`paired_bootstrap_stat`: the ``q``-th percentile."""
    return lambda values: float(np.percentile(values, q))


def paired_bootstrap_stat(
    baseline: Sequence[float], candidate: Sequence[float], *, statistic: Callable[[np.ndarray], float] | None = None,
    name: str = "p50", n_samples: int = DEFAULT_SAMPLES, seed: int | None = DEFAULT_SEED,
) -> PairedResult:
    """A per-segment statistic (default: the median) of two arms measured on the same segments;
    segment i of ``baseline`` and of ``candidate`` stay together in every resample."""
    b = np.asarray(baseline, dtype=float)
    c = np.asarray(candidate, dtype=float)
    if b.shape != c.shape or b.ndim != 1 or len(b) == 0:
        raise InvalidInput(f"paired bootstrap needs two equal, non-empty lists ({len(b)}, {len(c)})")
    stat = statistic or percentile_of(50)
    full_b, full_c = stat(b), stat(c)
    idx = _indices(len(b), n_samples, seed)
    res_b = np.array([stat(b[i]) for i in idx])
    res_c = np.array([stat(c[i]) for i in idx])
    p = _p_value(np.abs(res_c - res_b), abs(full_c - full_b))
    lo, hi = np.percentile(res_c - res_b, [2.5, 97.5])
    return PairedResult(name, full_b, full_c, p, (float(lo), float(hi)), len(b), n_samples, seed)


def bootstrap_ci(hypotheses: Sequence[str], references: Sequence[str], *, metric: str = "chrf",
                 tgt_lang: str | None = None, n_samples: int = DEFAULT_SAMPLES,
                 seed: int | None = DEFAULT_SEED) -> tuple[float, float]:
    """One system's corpus chrF/BLEU and the half-width of its 95 % bootstrap interval
    (sacrebleu's ``--confidence``: the 2.5th to 97.5th percentile of resampled scores, halved)."""
    if len(hypotheses) != len(references) or not references:
        raise InvalidInput(f"bootstrap needs equal, non-empty lists ({len(hypotheses)}, {len(references)})")
    m = _metric(metric, tgt_lang)
    stats = np.array(m._extract_corpus_statistics(list(hypotheses), [list(references)]),  # type: ignore[attr-defined]
                     dtype="float32")
    full = float(m._aggregate_and_compute(stats.tolist()).score)  # type: ignore[attr-defined]
    scores = np.sort([m._compute_score_from_stats(s.sum(0)).score  # type: ignore[attr-defined]
                      for s in stats[_indices(len(references), n_samples, seed)]])
    lower = n_samples // 40
    return full, float(0.5 * (scores[n_samples - lower - 1] - scores[lower]))
