"""Plumbing fixtures for the evaluation harness: a translator facade over the dictionary fake
engine (no model, no quality claims: it only exercises runners, reports, gates and canaries)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rtt.mt.base import MtCost
from rtt.policies.base import EmittedWord, PolicyContext
from rtt.policies.factory import make_policy
from tests.fakes import DictionaryEngine

ES_EN = {
    "hola": "hello", "a": "to", "todos": "everyone", "y": "and", "buenas": "good", "tardes": "afternoon",
    "el": "the", "gato": "cat", "come": "eats", "pescado": "fish", "la": "the", "casa": "house", "es": "is",
    "grande": "big", "usted": "you", "puede": "can", "pagar": "pay", "ahora": "now",
}


@dataclass
class FakeUpdate:
    committed: list[EmittedWord]
    committed_text: str
    tentative: str
    finished: bool
    cost: MtCost


class FakeSimultaneous:
    def __init__(self, engine: DictionaryEngine, src: str, tgt: str, policy: str, stabilization: str) -> None:
        self.policy = make_policy(policy, PolicyContext(engine, src, tgt), stabilization)

    def push(self, word: str, source_finished: bool = False) -> FakeUpdate:
        step = self.policy.push([word], source_finished)
        return FakeUpdate(step.committed, self.policy.committed_text, step.tentative, step.finished, step.cost)

    def reset(self) -> None:
        self.policy.reset()


@dataclass
class FakeOutcome:
    text: str


class FakeTranslator:
    """``Translator``-shaped plumbing fixture; ``table`` picks what the fake engine 'knows'."""

    def __init__(self, table: dict[str, str] | None = None, name: str = "fake") -> None:
        self.engine = DictionaryEngine(table if table is not None else ES_EN)
        self.name = name
        self.closed = False

    def simultaneous(self, source_lang: str, target_lang: str, **kw: Any) -> FakeSimultaneous:
        return FakeSimultaneous(
            self.engine, source_lang, target_lang, kw.get("policy") or "wait-3", kw.get("stabilization") or "balanced"
        )

    def translate(self, texts: Sequence[str], source_lang: str, target_lang: str, **kw: Any) -> list[FakeOutcome]:
        return [FakeOutcome(self.engine._full(t)) for t in texts]

    def close(self) -> None:
        self.closed = True


class ScriptedAsr:
    """ASR plumbing fixture: 'hears' ``words_per_s`` words of a fixed transcript per second of
    audio (continuing any forced prefix), so partials grow as audio arrives."""

    name = "scripted-asr"

    def __init__(self, transcript: str, words_per_s: float = 2.0) -> None:
        self.words = transcript.split()
        self.words_per_s = words_per_s
        self.decodes = 0

    def decode(self, audio: Any, options: Any) -> Any:
        from rtt.asr.base import AsrResult

        self.decodes += 1
        n = min(len(self.words), int(len(audio) / 16000 * self.words_per_s))
        heard = self.words[:n]
        prefix = options.prefix.split()
        text = " ".join(prefix + heard[len(prefix):])
        return AsrResult(text=text, language=options.language or "es", language_probability=1.0,
                         audio_s=len(audio) / 16000)

    def align(self, result: Any) -> list[Any]:
        return []

    def detect_language(self, audio: Any, allowed: tuple[str, ...] = ()) -> tuple[str, float]:
        return "es", 1.0

    def close(self) -> None:
        return None
