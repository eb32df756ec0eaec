"""Offline baseline: read the whole sentence, then translate it once."""

from __future__ import annotations

from rtt.policies.base import PolicyStep, SimultaneousPolicy


class FullSentencePolicy(SimultaneousPolicy):
    name = "full-sentence"

    def _step(self, source_finished: bool) -> PolicyStep:
        step = PolicyStep()
        if source_finished:
            self._finish(step)
        return step
