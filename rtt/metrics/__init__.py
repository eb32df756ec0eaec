"""Evaluation metrics: quality (chrF, BLEU, COMET), ASR WER, simultaneous latency, timeliness, QE.

Heavy backends (sacrebleu tokenizers, jiwer, comet/torch, the USE encoder) are imported only
when a function that needs them runs, so importing this package is cheap.
"""

from rtt.metrics.comet import COMET_ENV, NOT_CONFIGURED, CometScorer, comet_or_none, format_comet
from rtt.metrics.latency import (
    LatencyInstance,
    LatencyScores,
    average_lagging,
    average_proportion,
    corpus_latency,
    differentiable_average_lagging,
    end_offset,
    length_adaptive_average_lagging,
    segment_latency,
    start_offset,
)
from rtt.metrics.qe import QE_LABEL, UseSimilarity, qe_similarity_or_none
from rtt.metrics.quality import MetricScore, bleu_tokenizer_for, corpus_bleu, corpus_chrf, sentence_chrf
from rtt.metrics.timeliness import (
    ErasureStats,
    SegmentTiming,
    corpus_erasure,
    erasure,
    percentiles,
    segment_erasure,
    timing_summary,
)
from rtt.metrics.wer import (
    WerCounts,
    corpus_wer_counts,
    normalize_for_wer,
    utterance_wer,
    utterance_wer_counts,
    word_error_rate,
)

__all__ = [
    "COMET_ENV",
    "NOT_CONFIGURED",
    "QE_LABEL",
    "CometScorer",
    "ErasureStats",
    "LatencyInstance",
    "LatencyScores",
    "MetricScore",
    "SegmentTiming",
    "UseSimilarity",
    "WerCounts",
    "average_lagging",
    "average_proportion",
    "bleu_tokenizer_for",
    "comet_or_none",
    "corpus_bleu",
    "corpus_chrf",
    "corpus_erasure",
    "corpus_latency",
    "corpus_wer_counts",
    "differentiable_average_lagging",
    "end_offset",
    "erasure",
    "format_comet",
    "length_adaptive_average_lagging",
    "normalize_for_wer",
    "percentiles",
    "qe_similarity_or_none",
    "segment_erasure",
    "segment_latency",
    "sentence_chrf",
    "start_offset",
    "timing_summary",
    "utterance_wer",
    "utterance_wer_counts",
    "word_error_rate",
]
