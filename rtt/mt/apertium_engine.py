"""Apertium rule-based MT (Debian packages ``apertium`` + ``apertium-en-es``) as a fast tier.

It has no notion of a target prefix: continuing a prefix translates the source prefix and keeps
the committed words, which is all a rule-based system can honestly offer.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Sequence

from rtt.errors import BackendUnavailable
from rtt.languages import LANGUAGES
from rtt.mt.base import MtCost, MtRequest, MtResult, split_words, take_new_words

# Apertium's separator for a batch: a blank line keeps sentences apart in one process call.
_SEP = "\n\n"


def installed_modes(binary: str = "apertium") -> dict[str, str]:
    """Map our direction names ("es-en") to the installed Apertium modes ("spa-eng")."""
    if shutil.which(binary) is None:
        return {}
    try:
        proc = subprocess.run([binary, "-l"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    # Apertium names modes with ISO 639-3 codes (older packages with 639-1 codes).
    iso3 = {lang.flores: code for code, lang in LANGUAGES.items()}
    modes: dict[str, str] = {}
    for mode in (line.strip() for line in proc.stdout.splitlines()):
        parts = mode.split("-")
        if len(parts) != 2 or "_" in mode:
            continue  # variants such as spa-eng_US are not offered separately
        src, tgt = (iso3.get(p, p if p in LANGUAGES else "") for p in parts)
        if src and tgt:
            modes[f"{src}-{tgt}"] = mode
    return modes


class ApertiumEngine:
    def __init__(self, *, name: str = "apertium", directions: Sequence[str] = (), binary: str = "apertium") -> None:
        self.binary = binary
        self.name = name
        self.modes = installed_modes(binary)
        if not self.modes:
            raise BackendUnavailable(
                "Apertium is not installed (Debian: apt-get install apertium apertium-en-es)"
            )
        wanted = set(directions) if directions else set(self.modes)
        self.directions = {d for d in wanted if d in self.modes}
        if not self.directions:
            raise BackendUnavailable(
                f"Apertium has none of the pairs {sorted(wanted)} (installed: {sorted(self.modes)})"
            )

    def supports(self, source_lang: str, target_lang: str) -> bool:
        return f"{source_lang}-{target_lang}" in self.directions

    def _run(self, pair: str, texts: Sequence[str]) -> list[str]:
        mode = self.modes[pair]
        joined = _SEP.join(t.replace("\n", " ") for t in texts)
        proc = subprocess.run(
            [self.binary, "-u", mode], input=joined, capture_output=True, text=True, timeout=60
        )
        if proc.returncode != 0:
            raise BackendUnavailable(f"apertium {pair} failed: {proc.stderr.strip()[:200]}")
        out = [s.strip() for s in proc.stdout.split(_SEP)]
        if len(out) != len(texts):  # apertium merged or split blocks; fall back to one call each
            return [self._run(pair, [t])[0] for t in texts] if len(texts) > 1 else [" ".join(out)]
        return out

    def translate_batch(self, requests: Sequence[MtRequest]) -> list[MtResult]:
        results: list[MtResult | None] = [None] * len(requests)
        by_pair: dict[str, list[int]] = {}
        for i, r in enumerate(requests):
            by_pair.setdefault(f"{r.source_lang}-{r.target_lang}", []).append(i)
        for pair, idx in by_pair.items():
            t0 = time.perf_counter()
            outs = self._run(pair, [requests[i].text for i in idx])
            wall = (time.perf_counter() - t0) * 1000 / len(idx)
            for i, text in zip(idx, outs, strict=True):
                results[i] = MtResult(text, MtCost(wall_ms=wall))
        return [r for r in results if r is not None]

    def continue_prefix(self, request: MtRequest, max_new_words: int | None = None) -> MtResult:
        t0 = time.perf_counter()
        text = self._run(f"{request.source_lang}-{request.target_lang}", [request.text])[0]
        committed = split_words(request.target_prefix)
        words = split_words(text)
        merged = " ".join(committed + words[len(committed):])
        cut, end = take_new_words(request.target_prefix, merged, max_new_words, True)
        return MtResult(cut, MtCost(wall_ms=(time.perf_counter() - t0) * 1000), end)

    def close(self) -> None:
        return None
