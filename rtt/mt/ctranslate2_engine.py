"""Marian / OPUS-MT models converted to CTranslate2, loaded from a directory the user made.

No such weights ship in a registry package, so the project cannot pull one; a user converts a
model once (``ct2-transformers-converter --model Helsinki-NLP/opus-mt-es-en --output_dir DIR``
and copies ``source.spm``/``target.spm`` into DIR) and points an engine at DIR.  One directory
serves one direction, named in the engine's ``directions``.

Continuing a committed prefix uses CTranslate2's ``target_prefix``; asking for a few words uses
``max_decoding_length`` so a wait-k step decodes only what it needs.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rtt.errors import BackendUnavailable, ModelMissing
from rtt.metrics.busy import BusyLock
from rtt.mt.base import MtCost, MtRequest, MtResult, take_new_words


class CTranslate2Engine:
    # A Marian/OPUS-MT model has no register control.
    honors_formality = False

    def __init__(
        self,
        model_dir: str | Path,
        *,
        name: str = "ctranslate2",
        directions: Sequence[str] = (),
        compute_type: str = "int8",
        threads: int | None = None,
        beam_size: int = 1,
    ) -> None:
        try:
            import ctranslate2
            import sentencepiece as spm
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise BackendUnavailable("ctranslate2 and sentencepiece are needed for Marian models") from exc
        directory = Path(model_dir)
        if not (directory / "model.bin").is_file():
            raise ModelMissing(f"{directory} is not a CTranslate2 model directory (no model.bin)", model=str(directory))
        src_spm = directory / "source.spm"
        tgt_spm = directory / "target.spm"
        if not src_spm.is_file():
            raise ModelMissing(f"{directory} has no source.spm (copy it from the original model)", model=str(directory))
        self.name = name
        self.directions = set(directions)
        self.beam_size = beam_size
        self._lock = BusyLock()
        self._translator: Any = ctranslate2.Translator(
            str(directory), device="cpu", compute_type=compute_type, intra_threads=threads or 0
        )
        self._src = spm.SentencePieceProcessor(model_file=str(src_spm))
        self._tgt = spm.SentencePieceProcessor(model_file=str(tgt_spm if tgt_spm.is_file() else src_spm))

    def supports(self, source_lang: str, target_lang: str) -> bool:
        return not self.directions or f"{source_lang}-{target_lang}" in self.directions

    def _encode(self, text: str) -> list[str]:
        return list(self._src.encode(text, out_type=str)) + ["</s>"]

    def _decode(self, pieces: Sequence[str]) -> str:
        return str(self._tgt.decode([p for p in pieces if p not in ("</s>", "<pad>")]))

    def _prefix(self, text: str) -> list[str] | None:
        return list(self._tgt.encode(text, out_type=str)) if text else None

    def translate_batch(self, requests: Sequence[MtRequest]) -> list[MtResult]:
        if not requests:
            return []
        t0 = time.perf_counter()
        sources = [self._encode(r.text) for r in requests]
        prefixes = [self._prefix(r.target_prefix) for r in requests]
        with self._lock:
            results = self._translator.translate_batch(
                sources,
                target_prefix=prefixes if any(prefixes) else None,
                beam_size=self.beam_size,
                max_decoding_length=256,
            )
        wall = (time.perf_counter() - t0) * 1000 / len(requests)
        out = []
        for src, res in zip(sources, results, strict=True):
            hyp = res.hypotheses[0]
            out.append(MtResult(self._decode(hyp), MtCost(wall_ms=wall, prompt_tokens=len(src), generated_tokens=len(hyp))))
        return out

    def continue_prefix(self, request: MtRequest, max_new_words: int | None = None) -> MtResult:
        t0 = time.perf_counter()
        source = self._encode(request.text)
        prefix = self._prefix(request.target_prefix)
        # A word is 1-3 pieces; decode a little more than needed so the last word is complete.
        limit = 256 if max_new_words is None else len(prefix or []) + 3 * max_new_words + 3
        with self._lock:
            res = self._translator.translate_batch(
                [source],
                target_prefix=[prefix] if prefix else None,
                beam_size=self.beam_size,
                max_decoding_length=limit,
            )[0]
        hyp = res.hypotheses[0]
        complete = len(hyp) < limit
        text = self._decode(hyp)
        cut, reached_end = take_new_words(request.target_prefix, text, max_new_words, complete)
        cost = MtCost(wall_ms=(time.perf_counter() - t0) * 1000, prompt_tokens=len(source), generated_tokens=len(hyp))
        return MtResult(cut, cost, reached_end)

    def busy_seconds(self) -> float:
        return self._lock.seconds

    def close(self) -> None:
        self._translator = None
