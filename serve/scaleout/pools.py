"""Model pools: an MT tier (or the ASR model) served by a Ray Serve deployment of its own, and
the :class:`~rtt.mt.base.MtEngine` / :class:`~rtt.asr.base.AsrEngine` the pipeline calls it through.

A pool replica loads the tier's engines from the same config the ingress runs (so the same
files, by hash) and answers ``translate_batch`` / ``continue_prefix`` for them.  The ingress
replicas reach it through :class:`RemoteMtEngine`, handed to the engine registry as its
``remote`` hook: the pipeline, its policies and the refinement pass do not know the engine is
elsewhere.  Requests cross as the core's own dataclasses (pickled by Ray); a request's ``pause``
callback (the refinement pass's yield to live work, rtt/mt/priority.py) stays behind: in a pool
of its own the refinement tier no longer shares cores with live work, which is the point.

The remote engines report no busy seconds: the ingress's ``/metrics`` reads them on the event
loop, where a blocking handle call is not allowed, and a pool's compute is its own replicas'
(Ray's own metrics per deployment show it).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from typing import Any

from rtt.config import RttConfig
from rtt.mt.base import MtRequest, MtResult


def pool_name(tier: str) -> str:
    return f"mt-{tier}"


class MtPool:
    """The deployment class of one MT tier's pool (options come from ``serve.ray.mt_pools``)."""

    def __init__(self, config: dict[str, Any], tier: str) -> None:
        from rtt.mt.registry import EngineRegistry

        self.config = RttConfig.model_validate(config)
        self.tier = tier
        self.engines = EngineRegistry(self.config.mt)
        # Load now, so a replica is healthy only once its models are (Ray waits for __init__).
        for name in self.engine_names():
            try:
                self.engines.get(name)
            except Exception:  # an engine whose model is missing stays unavailable, as in-process
                continue
        self.engines.warm_up()

    def engine_names(self) -> list[str]:
        names: list[str] = []
        for routes in self.config.mt.tiers.get(self.tier, {}).values():
            names += [n for n in routes if n not in names]
        return names

    def describe(self, name: str) -> dict[str, Any]:
        """What the ingress needs to know of an engine without calling it."""
        engine = self.engines.get(name)
        return {"name": engine.name, "honors_formality": bool(getattr(engine, "honors_formality", True))}

    def supports(self, name: str, source_lang: str, target_lang: str) -> bool:
        return bool(self.engines.get(name).supports(source_lang, target_lang))

    def translate_batch(self, name: str, requests: Sequence[MtRequest]) -> list[MtResult]:
        return list(self.engines.get(name).translate_batch(requests))

    def continue_prefix(self, name: str, request: MtRequest, max_new_words: int | None) -> MtResult:
        return self.engines.get(name).continue_prefix(request, max_new_words)


class RemoteMtEngine:
    """An engine of a pool, called through its deployment handle (from worker threads: the
    pipeline runs MT steps off the event loop, where a blocking ``.result()`` is allowed)."""

    def __init__(self, key: str, handle: Any) -> None:
        self._key = key  # the engine's name in the config (the pool looks it up by that)
        self._handle = handle
        self._supports: dict[tuple[str, str], bool] = {}
        self._lock = threading.Lock()
        info = handle.describe.remote(key).result()
        self.name: str = info["name"]
        self.honors_formality: bool = info["honors_formality"]

    def supports(self, source_lang: str, target_lang: str) -> bool:
        key = (source_lang, target_lang)
        with self._lock:
            if key not in self._supports:
                self._supports[key] = bool(self._handle.supports.remote(self._key, *key).result())
            return self._supports[key]

    def translate_batch(self, requests: Sequence[MtRequest]) -> list[MtResult]:
        sent = [dataclasses.replace(r, pause=None) for r in requests]
        return list(self._handle.translate_batch.remote(self._key, sent).result())

    def continue_prefix(self, request: MtRequest, max_new_words: int | None = None) -> MtResult:
        result: MtResult = self._handle.continue_prefix.remote(
            self._key, dataclasses.replace(request, pause=None), max_new_words).result()
        return result

    def close(self) -> None:
        """The pool owns the model; nothing to release here."""


def remote_engines(config: RttConfig, pools: dict[str, Any]) -> Any:
    """The engine registry's ``remote`` hook: an engine of a pooled tier comes from that tier's
    pool (``pools``: tier -> deployment handle); others are built in the calling process."""
    owner: dict[str, str] = {}
    for tier in pools:
        for routes in config.mt.tiers.get(tier, {}).values():
            for name in routes:
                owner.setdefault(name, tier)

    def remote(name: str) -> RemoteMtEngine | None:
        tier = owner.get(name)
        return RemoteMtEngine(name, pools[tier]) if tier is not None else None

    return remote


ASR_POOL = "asr"


class AsrPool:
    """The deployment class of the ASR pool (``serve.ray.asr_pool``): the config's Whisper model."""

    def __init__(self, config: dict[str, Any]) -> None:
        from rtt.asr.whisper_engine import WhisperEngine
        from rtt.models.store import ModelStore

        cfg = RttConfig.model_validate(config).asr
        self.engine = WhisperEngine(ModelStore().resolve(cfg.model), cfg.compute_type, cfg.threads)

    def describe(self) -> dict[str, Any]:
        return {"name": self.engine.name, "sample_rate": self.engine.sample_rate,
                "model_dir": str(self.engine.model_dir), "languages": list(self.engine.languages)}

    def decode(self, audio: Any, options: Any) -> Any:
        result = self.engine.decode(audio, options)
        result.handle = None  # the encoder output stays here: align_text recomputes what it needs
        return result

    def align_text(self, audio: Any, text: str, language: str, window: str) -> list[Any]:
        return self.engine.align_text(audio, text, language, window)

    def detect_language(self, audio: Any, allowed: tuple[str, ...]) -> tuple[str, float]:
        return self.engine.detect_language(audio, allowed)


@dataclasses.dataclass(frozen=True)
class _Audio:
    """What a remote result keeps for a later alignment: the audio it was decoded from."""

    audio: Any
    window: str


class RemoteAsrEngine:
    """The ASR pool, called through its deployment handle from the ASR stage's worker threads.
    Each decode ships the utterance's audio (at most 30 s, 1.9 MB) to the pool."""

    def __init__(self, handle: Any) -> None:
        from pathlib import Path

        self._handle = handle
        info = handle.describe.remote().result()
        self.name: str = info["name"]
        self.sample_rate: int = info["sample_rate"]
        self.model_dir = Path(info["model_dir"])  # the same store path on every box (model hashes)
        self.languages: tuple[str, ...] = tuple(info["languages"])

    def decode(self, audio: Any, options: Any) -> Any:
        result = self._handle.decode.remote(audio, options).result()
        result.handle = _Audio(audio, options.window)
        return result

    def align(self, result: Any) -> list[Any]:
        kept = result.handle
        if not isinstance(kept, _Audio) or not result.text:
            return []
        return list(self._handle.align_text.remote(kept.audio, result.text, result.language, kept.window).result())

    def detect_language(self, audio: Any, allowed: tuple[str, ...] = ()) -> tuple[str, float]:
        lang, prob = self._handle.detect_language.remote(audio, allowed).result()
        return str(lang), float(prob)

    def close(self) -> None:
        """The pool owns the model."""
