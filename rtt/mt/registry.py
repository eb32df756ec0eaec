"""Engines by name, built lazily from the config, and the tier → engine routing.

A tier lists engines per direction in order of preference; the first one that is installed and
supports the direction serves it.  So the same config runs on a machine without Apertium (the
rule tier reports itself unavailable) and on one where a user added an OPUS-MT directory.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from rtt.config import EngineConfig, MtConfig
from rtt.errors import BackendUnavailable, InvalidInput, ModelMissing, UnsupportedLanguage
from rtt.models.store import ModelStore
from rtt.mt.base import MtEngine
from rtt.mt.llama_batch import BatchSettings


def build_engine(name: str, cfg: EngineConfig, store: ModelStore, batch: BatchSettings | None = None) -> MtEngine:
    engine = _backend_engine(name, cfg, store, batch) if batch is not None else _backend_engine(name, cfg, store)
    if cfg.chunk_words:
        from rtt.mt.chunked import ChunkedEngine

        return ChunkedEngine(engine, cfg.chunk_words, cfg.chunk_lag)
    return engine


def _backend_engine(name: str, cfg: EngineConfig, store: ModelStore, batch: BatchSettings | None = None) -> MtEngine:
    if cfg.backend == "llama":
        from rtt.mt.llama_engine import LlamaEngine

        return LlamaEngine(
            store.resolve(cfg.model),
            name=name,
            prompt=cfg.prompt,
            n_ctx=cfg.n_ctx,
            threads=cfg.threads,
            repeat_penalty=cfg.repeat_penalty,
            directions=cfg.directions,
            languages=cfg.languages,
            source_insert=cfg.source_insert,
            batching=bool(cfg.batching),
            batch=batch or BatchSettings(),
        )
    if cfg.backend == "ctranslate2":
        from rtt.mt.ctranslate2_engine import CTranslate2Engine

        return CTranslate2Engine(
            store.resolve(cfg.model),
            name=name,
            directions=cfg.directions,
            compute_type=cfg.compute_type,
            threads=cfg.threads,
            beam_size=cfg.beam_size,
        )
    from rtt.mt.apertium_engine import ApertiumEngine

    return ApertiumEngine(name=name, directions=cfg.directions)


class EngineRegistry:
    def __init__(
        self,
        config: MtConfig,
        store: ModelStore | None = None,
        builder: Callable[[str, EngineConfig, ModelStore], MtEngine] | None = None,
        remote: Callable[[str], MtEngine | None] | None = None,
    ) -> None:
        """``remote``: an engine served elsewhere (a Ray Serve pool) for a name, or None to build
        it here; the service's scale-out path passes one (serve/scaleout/pools.py)."""
        self.config = config
        self.store = store or ModelStore()
        batch = BatchSettings(config.batch_slots, config.batch_slot_ctx, config.batch_window_ms,
                              config.batch_step_tokens)
        self._builder = builder or (lambda name, cfg, store: build_engine(name, cfg, store, batch))
        self._remote = remote
        self._engines: dict[str, MtEngine] = {}
        self._failures: dict[str, Exception] = {}
        self._lock = threading.Lock()

    def loaded_engines(self) -> dict[str, MtEngine]:
        """The engines built so far, by name (metrics read them; nothing is loaded)."""
        with self._lock:
            return dict(self._engines)

    @property
    def tiers(self) -> list[str]:
        return list(self.config.tiers)

    def get(self, name: str) -> MtEngine:
        if name not in self.config.engines:
            raise InvalidInput(f"unknown engine {name!r}", field="engine")
        with self._lock:
            if name in self._engines:
                return self._engines[name]
            if name in self._failures:
                raise self._failures[name]
            cfg = self.config.engines[name]
            if cfg.backend == "llama":
                mt = self.config
                cfg = cfg.model_copy(update={"batching": mt.batching if cfg.batching is None else cfg.batching})
            try:
                engine = (self._remote(name) if self._remote is not None else None) or \
                    self._builder(name, cfg, self.store)
            except (BackendUnavailable, ModelMissing) as exc:
                self._failures[name] = exc
                raise
            self._engines[name] = engine
            return engine

    def candidates(self, tier: str, source: str, target: str) -> list[str]:
        if tier not in self.config.tiers:
            raise InvalidInput(f"unknown tier {tier!r}; configured: {', '.join(self.config.tiers)}", field="tier")
        routes = self.config.tiers[tier]
        return routes.get(f"{source}-{target}") or routes.get("*") or []

    def for_direction(
        self, source: str, target: str, tier: str | None = None, *, needs_formality: bool = False
    ) -> MtEngine:
        """The first available engine of the tier for this direction. ``needs_formality`` skips
        engines that cannot follow a register request (rule-based, plain seq2seq) when a later
        candidate of the same tier can; if none can, the first available one still serves."""
        tier = tier or self.config.default_tier
        problems: list[str] = []
        fallback: MtEngine | None = None
        for name in self.candidates(tier, source, target):
            try:
                engine = self.get(name)
            except (BackendUnavailable, ModelMissing) as exc:
                problems.append(f"{name}: {exc.message}")
                continue
            if not engine.supports(source, target):
                problems.append(f"{name}: does not serve {source}-{target}")
                continue
            if needs_formality and not getattr(engine, "honors_formality", True):
                fallback = fallback or engine
                continue
            return engine
        if fallback is not None:
            return fallback
        if problems and all("does not serve" in p for p in problems):
            raise UnsupportedLanguage(
                f"tier {tier!r} has no engine for {source}->{target}", source=source, target=target, tier=tier
            )
        raise BackendUnavailable(
            f"no engine of tier {tier!r} is available for {source}->{target}: " + "; ".join(problems or ["none listed"]),
            tier=tier,
        )

    def loaded(self) -> list[str]:
        return list(self._engines)

    def warm_up(self) -> None:
        """Let loaded engines that keep helpers alive (Apertium's pipes) start them now."""
        for name in self.loaded():
            warm = getattr(self._engines[name], "warm_up", None)
            if callable(warm):
                warm()

    def close(self) -> None:
        with self._lock:
            for engine in self._engines.values():
                engine.close()
            self._engines.clear()
