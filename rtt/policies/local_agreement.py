"""LocalAgreement-n (Polák et al., 2022; whisper_streaming): re-translate the growing source and
commit the longest common prefix of the last ``n`` hypotheses.

Committed words are forced as the target prefix of each re-translation, so a hypothesis can
never contradict them; the part of the newest hypothesis beyond the agreed prefix is the
tentative tail.
"""

from __future__ import annotations

from collections import deque

from rtt.mt.base import split_words
from rtt.policies.base import PolicyContext, PolicyStep, SimultaneousPolicy


def common_prefix(seqs: list[list[str]]) -> list[str]:
    if not seqs:
        return []
    out: list[str] = []
    for items in zip(*seqs, strict=False):
        if all(x == items[0] for x in items):
            out.append(items[0])
        else:
            break
    return out


class LocalAgreementPolicy(SimultaneousPolicy):
    def __init__(self, ctx: PolicyContext, n: int = 2, min_source_words: int = 1, stride: int = 1) -> None:
        if n < 2:
            raise ValueError("local agreement needs n >= 2 hypotheses")
        self.n = n
        self.min_source_words = max(1, min_source_words)
        self.stride = max(1, stride)
        self.name = f"local-agreement-{n}"
        super().__init__(ctx)

    def reset(self) -> None:
        super().reset()
        self._hyps: deque[list[str]] = deque(maxlen=self.n)
        self._last_len = 0

    def _step(self, source_finished: bool) -> PolicyStep:
        step = PolicyStep()
        if source_finished:
            self._finish(step)
            return step
        if len(self.source) < self.min_source_words or len(self.source) - self._last_len < self.stride:
            return step
        self._last_len = len(self.source)
        result = self.ctx.engine.continue_prefix(self._request(), None)
        step.cost = result.cost
        hyp = split_words(result.text)
        self._hyps.append(hyp)
        if len(self._hyps) == self.n:
            agreed = common_prefix(list(self._hyps))
            new = agreed[len(self._committed):]
            if len(agreed) == len(hyp):  # agreement reaches the hypothesis' end: hold its full stop
                new = self._new_words(" ".join(agreed))
            self._commit(new, step)
        step.tentative = " ".join(hyp[len(self._committed):])
        return step
