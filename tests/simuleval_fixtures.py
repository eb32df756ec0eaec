"""Plumbing fixture for the SimulEval tests: rtt's text agent over the dictionary fake engine
(loaded by ``simuleval --agent-class tests.simuleval_fixtures.FixtureTextAgent``)."""

from __future__ import annotations

from argparse import Namespace
from typing import Any

from rtt.simuleval.agents import RttSpeechAgent, RttTextAgent
from tests.eval_fixtures import FakeTranslator


class FixtureTextAgent(RttTextAgent):
    def build_translator(self, args: Namespace) -> Any:
        return FakeTranslator()


class FixtureSpeechAgent(RttSpeechAgent):
    """Speech agent over the scripted ASR fixture (2 words per second of audio) and dictionary MT."""

    def build_cascade(self, args: Namespace) -> Any:
        from rtt.eval.cascade import SpeechCascade
        from tests.eval_fixtures import ScriptedAsr

        return SpeechCascade(ScriptedAsr("hola a todos y buenas tardes"), FakeTranslator(), args.source_lang,
                             args.target_lang, policy=args.policy, stabilization=args.stabilization, step_ms=500)
