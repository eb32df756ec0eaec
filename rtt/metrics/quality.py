"""Reference-based translation quality: corpus chrF and BLEU computed by sacrebleu.

Scores are corpus-level (n-gram statistics summed over all segments before the score is
taken), which is how sacrebleu and WMT report them; averaging sentence scores is not the same
number.  Each score carries sacrebleu's signature so that a report says exactly how it was
computed (tokenizer, smoothing, version).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rtt.errors import InvalidInput

# sacrebleu's 13a tokenizer splits on spaces and punctuation, which is meaningless for
# languages written without spaces.  'ja-mecab' would need mecab-python3 + a dictionary, so
# Japanese is scored on characters instead (documented in docs/metrics.md).
_BLEU_TOKENIZERS: dict[str, str] = {"zh": "zh", "ja": "char"}
DEFAULT_BLEU_TOKENIZER = "13a"


@dataclass(frozen=True)
class MetricScore:
    name: str  # "chrF", "chrF++", "BLEU"
    score: float  # 0..100
    signature: str  # sacrebleu's signature string, e.g. "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.5.1"

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "score": self.score, "signature": self.signature}


def bleu_tokenizer_for(target_lang: str | None) -> str:
    """The sacrebleu tokenizer used for BLEU on text in ``target_lang`` (ISO 639-1)."""
    if target_lang is None:
        return DEFAULT_BLEU_TOKENIZER
    return _BLEU_TOKENIZERS.get(target_lang.strip().lower().split("-")[0], DEFAULT_BLEU_TOKENIZER)


def _check_corpus(hyps: Sequence[str], refs: Sequence[str]) -> tuple[list[str], list[list[str]]]:
    if isinstance(hyps, str) or isinstance(refs, str):
        raise InvalidInput("hyps and refs must be sequences of strings, not a single string")
    if len(hyps) != len(refs):
        raise InvalidInput(
            f"{len(hyps)} hypotheses but {len(refs)} references", hyps=len(hyps), refs=len(refs)
        )
    if not hyps:
        raise InvalidInput("cannot score an empty corpus")
    return [str(h) for h in hyps], [[str(r) for r in refs]]


def corpus_chrf(hyps: Sequence[str], refs: Sequence[str], word_order: int = 0) -> MetricScore:
    """Corpus chrF (``word_order=0``, sacrebleu's default) or chrF++ (``word_order=2``)."""
    from sacrebleu.metrics import CHRF

    hyp_list, ref_streams = _check_corpus(hyps, refs)
    metric = CHRF(word_order=word_order)
    result = metric.corpus_score(hyp_list, ref_streams)
    name = "chrF++" if word_order == 2 else ("chrF" if word_order == 0 else f"chrF(nw={word_order})")
    return MetricScore(name, float(result.score), str(metric.get_signature()))


def corpus_bleu(
    hyps: Sequence[str],
    refs: Sequence[str],
    target_lang: str | None = None,
    tokenize: str | None = None,
) -> MetricScore:
    """Corpus BLEU with the tokenizer suited to ``target_lang`` (``tokenize`` overrides it)."""
    from sacrebleu.metrics import BLEU

    hyp_list, ref_streams = _check_corpus(hyps, refs)
    metric = BLEU(tokenize=tokenize or bleu_tokenizer_for(target_lang))
    result = metric.corpus_score(hyp_list, ref_streams)
    return MetricScore("BLEU", float(result.score), str(metric.get_signature()))


def sentence_chrf(hyp: str, ref: str) -> float:
    """chrF of one segment: for per-segment tables, never averaged into a corpus score."""
    from sacrebleu.metrics import CHRF

    return float(CHRF().sentence_score(hyp, [ref]).score)
