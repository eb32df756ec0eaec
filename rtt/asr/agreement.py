"""LocalAgreement-n (Polák et al., 2022; Macháček et al., 2023 "whisper_streaming").

Each partial decode yields a full hypothesis of the utterance so far.  A word is *committed*
once the last ``n`` hypotheses agree on it (and on everything before it); committed words are
never revised, and later decodes are forced to continue them.  Agreement is judged on a
case- and punctuation-insensitive key, and the spelling of the newest hypothesis is kept
(a later decode that sees more audio often adds the comma).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from rtt.asr.normalize import normalize_word


class LocalAgreement:
    def __init__(self, n: int = 2) -> None:
        if n < 1:
            raise ValueError("local agreement needs n >= 1")
        self.n = n
        self.committed: list[str] = []
        self._tails: deque[list[str]] = deque(maxlen=n)
        self._voting = True

    def update(self, hypothesis: Sequence[str], max_new: int | None = None) -> list[str]:
        """Feed one full hypothesis (committed words first); return the words committed now
        (at most ``max_new``: the rest of an agreed run stays tentative, see :mod:`rtt.asr.guards`)."""
        tail = list(hypothesis[len(self.committed):])
        if not self._voting:  # the tail on show came from tentative_only(): it has no vote
            self._tails.clear()
            self._voting = True
        self._tails.append(tail)
        if len(self._tails) < self.n:
            return []
        common = 0
        shortest = min(len(t) for t in self._tails)
        while common < shortest and len({normalize_word(t[common]) for t in self._tails}) == 1:
            common += 1
        if max_new is not None:
            common = min(common, max(0, max_new))
        new = tail[:common]
        if new:
            self.committed.extend(new)
            self._tails = deque((t[common:] for t in self._tails), maxlen=self.n)
        return new

    def tentative_only(self, hypothesis: Sequence[str]) -> None:
        """Show a hypothesis without letting it vote (too little audio to trust it)."""
        self._tails.clear()
        self._tails.append(list(hypothesis[len(self.committed):]))
        self._voting = False

    def tentative(self) -> list[str]:
        """The newest hypothesis beyond the committed words."""
        return list(self._tails[-1]) if self._tails else []

    def reset(self) -> None:
        self.committed = []
        self._tails.clear()
        self._voting = True
