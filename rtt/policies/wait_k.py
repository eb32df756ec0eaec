"""wait-k (Ma et al., 2019): lag k words behind the source, then write one word per word read.

After reading ``g`` source words the policy may have written ``g - k + 1`` target words.
Optionally it shows a tentative tail: a few more words decoded in the same call, displayed as a
partial but not committed (so a later step may revise them).
"""

from __future__ import annotations

from rtt.policies.base import PolicyContext, PolicyStep, SimultaneousPolicy


class WaitKPolicy(SimultaneousPolicy):
    def __init__(self, ctx: PolicyContext, k: int = 3, tentative_words: int = 0) -> None:
        if k < 1:
            raise ValueError("wait-k needs k >= 1")
        self.k = k
        self.tentative_words = max(0, tentative_words)
        self.name = f"wait-{k}"
        super().__init__(ctx)

    def _step(self, source_finished: bool) -> PolicyStep:
        step = PolicyStep()
        if source_finished:
            self._finish(step)
            return step
        allowed = len(self.source) - self.k + 1
        need = allowed - len(self._committed)
        if need <= 0 and not self.tentative_words:
            return step
        budget = max(need, 0) + self.tentative_words
        result = self.ctx.engine.continue_prefix(self._request(), budget)
        step.cost = result.cost
        new = self._new_words(result.text)
        commit = new[: max(need, 0)]
        self._commit(commit, step)
        step.tentative = " ".join(new[len(commit):])
        return step
