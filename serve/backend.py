"""What the service needs from the models, as protocols, and the real implementation.

The app never touches engines directly: it asks a :class:`Backend` for text translations (a
blocking call the app runs in its worker threads) and for realtime sessions (the
``rtt.pipeline.session.Session`` contract, docs/session-api.md).  Tests inject plumbing fakes
through the same protocol; the real backend loads the models once per process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from rtt.config import RttConfig
from rtt.errors import RttError
from rtt.languages import CORE_LANGUAGES, LANGUAGES
from rtt.pipeline.events import Event
from rtt.pipeline.options import SessionOptions
from rtt.protocol import LanguageInfo

log = logging.getLogger("serve.backend")

if TYPE_CHECKING:
    from rtt.translator import TranslationOutcome


class RealtimeSession(Protocol):
    async def start(self) -> None: ...

    async def push_audio(self, data: bytes, seq: int | None = None) -> None: ...

    async def push_text(self, text: str, final: bool = False) -> None: ...

    async def commit(self) -> None: ...

    async def set_target_lang(self, lang: str) -> None: ...

    def set_glossary(self, glossary: Any) -> None: ...

    async def pause(self) -> None: ...

    async def resume(self) -> None: ...

    def events(self) -> AsyncIterator[Event]: ...

    async def close(self, drain: bool = True) -> None: ...


class Backend(Protocol):
    config: RttConfig

    def load(self) -> None:
        """Load and prewarm the models (blocking; run in a thread at start-up)."""
        ...

    @property
    def ready(self) -> bool: ...

    def status(self) -> dict[str, Any]: ...

    def translate(
        self, texts: Sequence[str], source_lang: str, target_lang: str, **options: Any
    ) -> list[TranslationOutcome]:
        """Blocking; raises ``RttError`` subclasses for bad input."""
        ...

    def open_session(self, options: SessionOptions, session_id: str | None = None) -> RealtimeSession:
        """Raises ``RttError`` for options the pipeline refuses (``options`` are validated)."""
        ...

    def close(self) -> None: ...


def language_infos() -> list[LanguageInfo]:
    return [
        LanguageInfo(code=lang.code, name=lang.name, core=lang.code in CORE_LANGUAGES,
                     marks_formality=lang.marks_formality)
        for lang in LANGUAGES.values()
    ]


class PipelineBackend:
    """The real models: one shared ``Components`` (translator, ASR, VAD, TTS) per process."""

    def __init__(self, config: RttConfig, prewarm: bool = True, mt_remote: Any = None, asr_remote: Any = None) -> None:
        """``mt_remote``: MT engines served by other processes (Ray Serve pools), by name;
        ``asr_remote``: makes the ASR engine another process serves (called when loading)."""
        self.config = config
        self.prewarm = prewarm
        self.mt_remote = mt_remote
        self.asr_remote = asr_remote
        self._components: Any = None
        self._lock = threading.Lock()
        self._status: dict[str, Any] = {"state": "not_loaded"}

    @property
    def ready(self) -> bool:
        return self._components is not None and self._status.get("state") == "ready"

    def status(self) -> dict[str, Any]:
        return dict(self._status)

    def load(self) -> None:
        from rtt.pipeline.components import Components

        with self._lock:
            if self._components is not None:
                return
            self._status = {"state": "loading"}
            t0 = time.perf_counter()
            try:
                asr = self.asr_remote() if self.asr_remote is not None else None
                components = Components(self.config, asr=asr, mt_remote=self.mt_remote)
                if self.prewarm:
                    components.prewarm(asr=True, mt=True)
                    self._prewarm_translator(components)
            except Exception as exc:
                self._status = {"state": "failed", "error": f"{type(exc).__name__}: {exc}"}
                raise
            self._components = components
            self._status = {"state": "ready", "load_s": round(time.perf_counter() - t0, 2)}

    def _prewarm_translator(self, components: Any) -> None:
        # The first call of each engine pays for allocating buffers; do it before a user does.
        mt = self.config.mt
        for tier in {mt.default_tier, mt.final_tier} - {None}:
            components.translator.translate(["Hello."], "en", "es", tier=tier)
        if mt.refine_tier and not mt.final_tier:
            # Optional: without its model the service runs and sessions keep their fast finals.
            try:
                components.translator.translate(["Hello."], "en", "es", tier=mt.refine_tier)
            except RttError as exc:
                log.warning("refinement tier %r unavailable, finals will not be revised: %s", mt.refine_tier,
                            exc.message)
        components.translator.engines.warm_up()

    @property
    def components(self) -> Any:
        if self._components is None:
            self.load()
        return self._components

    def engine_usage(self) -> list[Any]:
        """The loaded models' busy seconds and batch sizes (empty before loading)."""
        components = self._components
        return list(components.engine_usage()) if components is not None else []

    @property
    def load_governor(self) -> Any:
        """The process's load level (rtt/pipeline/load.py), None before the models are loaded."""
        return getattr(self._components, "load_governor", None)

    def translate(
        self, texts: Sequence[str], source_lang: str, target_lang: str, **options: Any
    ) -> list[TranslationOutcome]:
        result: list[TranslationOutcome] = self.components.translator.translate(
            texts, source_lang, target_lang, **options
        )
        return result

    def open_session(self, options: SessionOptions, session_id: str | None = None) -> RealtimeSession:
        from rtt.pipeline.session import Session

        session: RealtimeSession = Session(self.components, options, session_id=session_id)
        return session

    def close(self) -> None:
        if self._components is not None:
            closer = getattr(self._components, "close", None)
            if callable(closer):
                closer()
            self._components = None
