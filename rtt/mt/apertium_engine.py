"""Apertium rule-based MT (Debian packages ``apertium`` + ``apertium-en-es``) as a fast tier.

It has no notion of a target prefix: continuing a prefix translates the source prefix and keeps
the committed words, which is all a rule-based system can honestly offer.

Starting the ~12-process Apertium pipe costs 100–300 ms, more than a whole wait-k step may take,
so each pair keeps one pipe alive in null-flush mode (``-z``: a NUL byte ends a request and
every stage flushes on it) and a request costs a few milliseconds. The one-shot ``apertium``
command stays as the fallback when the persistent pipe cannot be built or dies.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from rtt.errors import BackendUnavailable
from rtt.languages import LANGUAGES
from rtt.metrics.busy import BusyLock
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


# Characters the Apertium stream format reserves; apertium-destxt escapes them the same way.
_RESERVED = re.compile(r"([\\\[\]^$/@<>{}*])")
_ESCAPED = re.compile(r"\\(.)")
_MODES_DIR = Path("/usr/share/apertium/modes")


def _escape(text: str) -> str:
    # "[]" is the empty superblank destxt ends every text with; without it the sentence-final
    # full stop stays inside the tagger waiting for more input.
    return _RESERVED.sub(r"\\\1", text.replace("\0", "").replace("\n", " ")) + "[]"


def _unescape(text: str) -> str:
    return _ESCAPED.sub(r"\1", text.replace("[]", "")).strip()


class PersistentPipe:
    """One Apertium pair running in null-flush mode; one request at a time."""

    def __init__(self, mode: str, timeout_s: float = 10.0) -> None:
        self.mode = mode
        self.timeout_s = timeout_s
        self._lock = BusyLock()
        self._proc: subprocess.Popen[bytes] | None = None

    @staticmethod
    def command(mode: str) -> str | None:
        mode_file = _MODES_DIR / f"{mode}.mode"
        if not mode_file.is_file() or not shutil.which("apertium-wblank-mode") or not shutil.which("stdbuf"):
            return None
        proc = subprocess.run(["apertium-wblank-mode", "-z", str(mode_file)], capture_output=True, text=True, timeout=10)
        if proc.returncode != 0 or not proc.stdout.strip():
            return None
        # $1: generation flag (-n = no "*" marks on unknown words, like `apertium -u`); $2: tagger
        # options. Some stages block-buffer their output even in -z mode, hence stdbuf.
        pipeline = proc.stdout.strip().replace("$1", "-n").replace("$2", "")
        return "stdbuf -o0 " + pipeline.replace("| ", "| stdbuf -o0 ")

    def _start(self) -> subprocess.Popen[bytes]:
        cmd = self.command(self.mode)
        if cmd is None:
            raise OSError(f"no null-flush pipeline for Apertium mode {self.mode}")
        return subprocess.Popen(["bash", "-c", cmd], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL)

    def translate(self, text: str) -> str:
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._proc = self._start()
            proc = self._proc
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(_escape(text).encode("utf-8") + b"\0")
                proc.stdin.flush()
                out = self._read_until_nul(proc.stdout.fileno())
            except OSError:
                self._kill()
                raise
            return _unescape(out.decode("utf-8", errors="replace"))

    def _read_until_nul(self, fd: int) -> bytes:
        deadline = time.monotonic() + self.timeout_s
        out = b""
        while not out.endswith(b"\0"):
            left = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(left, 0))
            if not ready:
                self._kill()
                raise OSError(f"Apertium {self.mode} did not answer within {self.timeout_s:g} s")
            chunk = os.read(fd, 65536)
            if not chunk:
                self._kill()
                raise OSError(f"Apertium {self.mode} exited")
            out += chunk
        return out[:-1]

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)

    def busy_seconds(self) -> float:
        return self._lock.seconds

    def close(self) -> None:
        with self._lock:
            if self._proc is not None and self._proc.stdin is not None:
                self._proc.stdin.close()
            self._kill()


class ApertiumEngine:
    # Rule-based output has one register; a formality request cannot change it.
    honors_formality = False
    def __init__(
        self, *, name: str = "apertium", directions: Sequence[str] = (), binary: str = "apertium",
        persistent: bool = True,
    ) -> None:
        self.binary = binary
        self.persistent = persistent
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
        self._pipes = {pair: PersistentPipe(self.modes[pair]) for pair in self.directions}
        self._pipe_failed: set[str] = set()

    def busy_seconds(self) -> float:
        return sum(pipe.busy_seconds() for pipe in self._pipes.values())

    def warm_up(self) -> None:
        """Start every pair's pipe now, so the first live request does not pay for it."""
        for pair in sorted(self.directions):
            self._translate_one(pair, "ok")

    def supports(self, source_lang: str, target_lang: str) -> bool:
        return f"{source_lang}-{target_lang}" in self.directions

    def _translate_one(self, pair: str, text: str) -> str:
        if self.persistent and pair not in self._pipe_failed:
            try:
                return self._pipes[pair].translate(text)
            except OSError:
                # Once broken, stay on the one-shot command: restarting a pipe that keeps
                # failing would add its start-up cost to every request.
                self._pipe_failed.add(pair)
        return self._run(pair, [text])[0]

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
            if self.persistent and pair not in self._pipe_failed:
                outs = [self._translate_one(pair, requests[i].text) for i in idx]
            else:
                outs = self._run(pair, [requests[i].text for i in idx])
            wall = (time.perf_counter() - t0) * 1000 / len(idx)
            for i, text in zip(idx, outs, strict=True):
                results[i] = MtResult(text, MtCost(wall_ms=wall))
        return [r for r in results if r is not None]

    def continue_prefix(self, request: MtRequest, max_new_words: int | None = None) -> MtResult:
        t0 = time.perf_counter()
        text = self._translate_one(f"{request.source_lang}-{request.target_lang}", request.text)
        committed = split_words(request.target_prefix)
        words = split_words(text)
        merged = " ".join(committed + words[len(committed):])
        cut, end = take_new_words(request.target_prefix, merged, max_new_words, True)
        return MtResult(cut, MtCost(wall_ms=(time.perf_counter() - t0) * 1000), end)

    def close(self) -> None:
        for pipe in self._pipes.values():
            pipe.close()
