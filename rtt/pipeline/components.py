"""Models shared by every session of a process, loaded lazily and once.

Loading Whisper or an LLM takes seconds and hundreds of MB, so sessions never own models:
they borrow them from one :class:`Components`.  Each getter is guarded by its own lock so
that two sessions starting together load a model once; engines serialise their own calls.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from rtt.asr.base import AsrEngine
from rtt.config import RttConfig, load_config
from rtt.metrics.busy import busy_seconds
from rtt.models.store import ModelStore, fingerprint
from rtt.mt.priority import ForegroundGate
from rtt.pipeline.load import LoadGovernor
from rtt.vad.base import Vad
from rtt.vad.pool import VadPool

log = logging.getLogger("rtt.pipeline")

T = TypeVar("T")


class _Lazy:
    """A value built on first use under a lock; a failure is re-raised on each use (not cached)."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._lock = threading.Lock()
        self._value: Any = None
        self._ready = False

    def get(self) -> Any:
        if self._ready:
            return self._value
        with self._lock:
            if not self._ready:
                self._value = self._build()
                self._ready = True
        return self._value

    def set(self, value: Any) -> None:
        with self._lock:
            self._value = value
            self._ready = True

    @property
    def loaded(self) -> bool:
        return self._ready


@dataclass(frozen=True)
class EngineUsage:
    """One loaded model's compute so far (``rtt_model_busy_seconds_total``, ``rtt_mt_batch_requests``)."""

    engine: str  # "asr", "mt:<engine name>", "tts:<piper|espeak>"
    busy_s: float
    batch_sizes: dict[int, int]  # requests per decode step -> steps (batched MT engines only)


class Components:
    def __init__(
        self,
        config: RttConfig,
        store: ModelStore | None = None,
        *,
        translator: Any = None,
        asr: AsrEngine | None = None,
        tts: Any = None,
        vad_factory: Callable[[], Vad] | None = None,
        mt_remote: Callable[[str], Any] | None = None,
    ) -> None:
        """``mt_remote``: MT engines served elsewhere, by name (see :class:`rtt.mt.registry.EngineRegistry`)."""
        self.config = config
        self._mt_remote = mt_remote
        self.store = store or ModelStore()
        # Live inference (ASR decodes, MT steps) holds it; the refinement pass yields to it.
        # An injected translator that brings its own gate shares that one.
        self.gate: ForegroundGate = getattr(translator, "gate", None) or ForegroundGate()
        # Shared by every session: what gives way when finals miss the latency budget.
        self.load_governor = LoadGovernor(config.load)
        self._translator = _Lazy(self._load_translator)
        self._asr = _Lazy(self._load_asr)
        self._tts = _Lazy(self._load_tts)
        self._diarization = _Lazy(self._load_diarization)
        self._vad_factory = vad_factory
        # Sessions borrow detectors instead of building one each (see rtt/vad/pool.py).
        self.vads = VadPool(self.make_vad)
        if translator is not None:
            self._translator.set(translator)
        if asr is not None:
            self._asr.set(asr)
        if tts is not None:
            self._tts.set(tts)

    @classmethod
    def load(cls, config: RttConfig | None = None, store: ModelStore | None = None) -> Components:
        """Nothing is loaded yet: each model loads on first use (or ``prewarm``)."""
        return cls(config or load_config(), store)

    # -- loaders ------------------------------------------------------------------------------
    def _load_translator(self) -> Any:
        from rtt.mt.registry import EngineRegistry
        from rtt.translator import Translator

        engines = EngineRegistry(self.config.mt, self.store, remote=self._mt_remote) if self._mt_remote else None
        return Translator(self.config, self.store, engines=engines, gate=self.gate)

    def _load_asr(self) -> AsrEngine:
        from rtt.asr.whisper_engine import WhisperEngine

        cfg = self.config.asr
        path = self.store.resolve(cfg.model)
        log.info("loading ASR model %s", path)
        return WhisperEngine(path, cfg.compute_type, cfg.threads)

    def _load_tts(self) -> Any:
        from rtt.tts.router import TtsRouter

        return TtsRouter(self.config.tts, self.store)

    def _load_diarization(self) -> Any:
        from rtt.diarization.models import DiarizationModels

        return DiarizationModels.load(self.config.diarization, self.store)

    # -- public -------------------------------------------------------------------------------
    @property
    def translator(self) -> Any:
        """An :class:`rtt.translator.Translator` (or a stand-in with ``simultaneous()``)."""
        return self._translator.get()

    @property
    def asr(self) -> AsrEngine:
        return self._asr.get()  # type: ignore[no-any-return]

    @property
    def diarization(self) -> Any:
        """:class:`rtt.diarization.models.DiarizationModels` (loaded on first use)."""
        return self._diarization.get()

    @property
    def tts(self) -> Any:
        """An :class:`rtt.tts.router.TtsRouter`."""
        return self._tts.get()

    def asr_model_hash(self) -> str | None:
        """The short sha256 of the ASR model in the store, when it is loaded (traces, session info)."""
        if not self._asr.loaded:
            return None
        model_dir = getattr(self.asr, "model_dir", None)
        return fingerprint(model_dir) if model_dir is not None else None

    def engine_usage(self) -> list[EngineUsage]:
        """Busy seconds (and MT batch sizes) of every model loaded so far; loads nothing."""
        engines: list[tuple[str, Any]] = []
        if self._asr.loaded:
            engines.append(("asr", self.asr))
        if self._translator.loaded:
            registry = getattr(self.translator, "engines", None)
            loaded = getattr(registry, "loaded_engines", None)
            engines += [(f"mt:{name}", e) for name, e in (loaded() if callable(loaded) else {}).items()]
        if self._tts.loaded:
            loaded = getattr(self.tts, "loaded", None)
            engines += [(f"tts:{name}", e) for name, e in (loaded() if callable(loaded) else {}).items()]
        if self._diarization.loaded:
            engines += [("diarization:encoder", self.diarization.encoder),
                        ("diarization:segmentation", self.diarization.segmenter)]
        usage = []
        for name, engine in engines:
            seconds = busy_seconds(engine)
            if seconds is None:
                continue
            sizes = getattr(engine, "batch_sizes", None)
            usage.append(EngineUsage(name, seconds, sizes() if callable(sizes) else {}))
        return usage

    def make_vad(self) -> Vad:
        """A fresh detector for one stream (Silero keeps recurrent state)."""
        if self._vad_factory is not None:
            return self._vad_factory()
        from rtt.vad.factory import make_vad

        return make_vad(self.config.vad, self.store)

    def prewarm(self, *, asr: bool = True, mt: bool = False, tts: bool = False, tts_langs: tuple[str, ...] = ()) -> None:
        """Load models now instead of on a first request (the service calls this at startup)."""
        if asr:
            self.asr  # noqa: B018 - loading is the point
        if mt:
            self.translator  # noqa: B018
        if tts:
            self.tts.prewarm(tts_langs)

    def close(self) -> None:
        self.gate.close()
        for lazy in (self._translator, self._asr):
            if lazy.loaded:
                value = lazy.get()
                close = getattr(value, "close", None)
                if callable(close):
                    close()
