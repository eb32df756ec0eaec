"""Plumbing fixture for the SimulEval tests: rtt's text agent over the dictionary fake engine
(loaded by ``simuleval --agent-class tests.simuleval_fixtures.FixtureTextAgent``)."""

from __future__ import annotations

from argparse import Namespace
from typing import Any

from rtt.simuleval.agents import RttTextAgent
from tests.eval_fixtures import FakeTranslator


class FixtureTextAgent(RttTextAgent):
    def build_translator(self, args: Namespace) -> Any:
        return FakeTranslator()
