"""Per-session privacy: what the session emits carries no PII and, on request, no strong words.

The MT input is masked by the text pipeline (``TextOptions.mask_pii``: an engine never sees an
e-mail address) and strong words in the target by ``mask_profanity``.  But a spoken e-mail
address also sits in the transcript (``partial_asr``, ``final_asr``, ``source_text``) and in
whatever keeps it (retained transcripts, subtitles, clip responses).  So the session passes
every event through :class:`EventMasker` before anyone sees it: one place, applied to every
text field, with the language of that field for the profanity list.

A translation can carry an address's parts before any rule sees an address in it (a Spanish
partial of "john at example." says "john en example."), so the words the source's masks
covered are remembered for the session and masked wherever a translation repeats them.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from typing import Any

from rtt.pipeline import events as ev
from rtt.text.masking import (
    ADDRESS_WORDS,
    EMAIL_MASK,
    SPOKEN_ADDRESS_TAIL_RE,
    find_pii,
    profanity_pattern,
    star_match,
)


@dataclasses.dataclass(frozen=True)
class _Cut:
    start: int
    end: int
    replacement: str


class EventMasker:
    def __init__(self, *, pii: bool, profanity: bool, target_lang: Callable[[], str]) -> None:
        self.pii = pii
        self.profanity = profanity
        self.target_lang = target_lang
        # Words the source's PII masks covered (lower case, oldest first, bounded).
        self._hidden: dict[str, None] = {}
        self._hidden_re: re.Pattern[str] | None = None

    def cuts(self, text: str, lang: str | None) -> list[_Cut]:
        """What to replace in ``text``, non-overlapping, in order."""
        out: list[_Cut] = []
        if self.pii:
            out += [_Cut(s.start, s.end, s.replacement or "") for s in find_pii(text)]
        pattern = profanity_pattern(lang or "") if self.profanity else None
        if pattern is not None:
            for m in pattern.finditer(text):
                if not any(c.start < m.end() and m.start() < c.end for c in out):
                    out.append(_Cut(m.start(), m.end(), star_match(m)))
        return sorted(out, key=lambda c: c.start)

    def text(self, text: str, lang: str | None) -> str:
        if not text:
            return text
        out, pos = [], 0
        for c in self.cuts(text, lang):
            out += [text[pos:c.start], c.replacement]
            pos = c.end
        return "".join(out) + text[pos:] if out else text

    def partial(self, text: str, lang: str | None) -> str:
        """A partial result: masked as a final is, and, with PII masking, also every fragment a
        growing address or number can show before it is whole ("612", "example.dick", "ana@"):
        a word with a digit becomes [NUMBER], one with an "@" or a dot inside it [EMAIL].  The
        final then shows exactly what the PII rules find."""
        out = self.text(text, lang)
        if not self.pii or not out:
            return out
        out = _FRAGMENT.sub(lambda m: "[NUMBER]" if any(c.isdigit() for c in m.group(0)) and "@" not in m.group(0)
                            and not _DOTTED.search(m.group(0)) else "[EMAIL]", out)
        return SPOKEN_ADDRESS_TAIL_RE.sub(EMAIL_MASK, out)

    def learn(self, source: str, *, partial: bool = False) -> None:
        """Remember the words of ``source`` that its PII masks cover (and, in a partial, an
        address still being spoken), so translations that repeat them are masked too."""
        if not self.pii or not source:
            return
        spans = [(s.start, s.end) for s in find_pii(source)]
        if partial:
            spans += [m.span() for m in SPOKEN_ADDRESS_TAIL_RE.finditer(source)]
        new = False
        for start, end in spans:
            for word in _WORD.findall(source[start:end]):
                key = word.lower()
                if key not in ADDRESS_WORDS and key not in self._hidden:
                    self._hidden[key] = None
                    new = True
        while len(self._hidden) > MAX_HIDDEN_WORDS:
            del self._hidden[next(iter(self._hidden))]
        if new:
            alternatives = "|".join(re.escape(w) for w in sorted(self._hidden, key=len, reverse=True))
            self._hidden_re = re.compile(rf"(?<![\w\[])(?:{alternatives})(?!\w)", re.IGNORECASE)

    def hide(self, text: str) -> str:
        """``text`` with every remembered source word masked."""
        if self._hidden_re is None or not text:
            return text
        return self._hidden_re.sub(EMAIL_MASK, text)

    def words(self, text: str, words: Sequence[ev.WordTiming], lang: str | None) -> tuple[ev.WordTiming, ...]:
        """Word timings for the masked text: a word inside a masked span takes its mask (the
        first one of the span) or is dropped (the rest of a multi-word phone number)."""
        cuts = self.cuts(text, lang)
        if not cuts:
            return tuple(words)
        out: list[ev.WordTiming] = []
        pos = 0
        used: set[int] = set()
        for w in words:
            start = text.find(w.text, pos)
            if start < 0:  # the timings do not follow the text: keep none rather than leak
                return ()
            end = pos = start + len(w.text)
            hit = next((i for i, c in enumerate(cuts) if c.start < end and start < c.end), None)
            if hit is None:
                out.append(w)
            elif hit not in used:
                used.add(hit)
                out.append(dataclasses.replace(w, text=self.text(w.text, lang) if _inside(cuts[hit], start, end)
                                               else cuts[hit].replacement))
        return tuple(out)

    def _split(self, committed: str, tentative: str, lang: str | None) -> tuple[str, str]:
        """Mask committed and tentative words together (an address can straddle them).  Committed
        words stay as they were shown; when a mask reaches back into them, the tentative part is
        the masked text after the committed words it left unchanged ("john" + "[EMAIL]")."""
        c = self.partial(committed, lang)
        joint = self.partial(f"{committed} {tentative}".strip(), lang)
        if joint.startswith(c):
            return c, joint[len(c):].strip()
        cw, jw = c.split(), joint.split()
        k = 0
        while k < min(len(cw), len(jw)) and cw[k] == jw[k]:
            k += 1
        return c, " ".join(jw[k:])

    def __call__(self, event: Any) -> Any:
        src = getattr(event, "language", None) or getattr(event, "source_lang", None)
        tgt = getattr(event, "target_lang", None) or self.target_lang()
        if isinstance(event, ev.PartialAsr):
            self.learn(f"{event.committed} {event.tentative}".strip(), partial=True)
            committed, tentative = self._split(event.committed, event.tentative, src)
            return dataclasses.replace(event, committed=committed, tentative=tentative)
        if isinstance(event, ev.FinalAsr):
            self.learn(event.text)
            return dataclasses.replace(event, text=self.text(event.text, src),
                                       words=self.words(event.text, event.words, src))
        if isinstance(event, ev.RevisedAsr):
            self.learn(event.text)
            return dataclasses.replace(event, text=self.text(event.text, src),
                                       previous_text=self.text(event.previous_text, src))
        if isinstance(event, ev.PartialTranslation):
            committed, tentative = self._split(event.committed, event.tentative, tgt)
            return dataclasses.replace(event, committed=self.hide(committed), tentative=self.hide(tentative))
        if isinstance(event, ev.FinalTranslation):
            self.learn(event.source_text)
            return dataclasses.replace(event, text=self.hide(self.text(event.text, tgt)),
                                       source_text=self.text(event.source_text, src))
        if isinstance(event, ev.RevisedTranslation):
            return dataclasses.replace(event, text=self.hide(self.text(event.text, tgt)),
                                       previous_text=self.hide(self.text(event.previous_text, tgt)))
        return event


# A word holding a digit, an "@", or a dot between two letters/digits (not a sentence end); mask
# tokens themselves ("[EMAIL]") are left alone.
_FRAGMENT = re.compile(r"(?<!\S)(?!\[[A-Z]+\])\S*(?:\d|@|\w\.\w)\S*")
_DOTTED = re.compile(r"\w\.\w")
_WORD = re.compile(r"[^\W\d_]{2,}")
MAX_HIDDEN_WORDS = 256


def _inside(cut: _Cut, start: int, end: int) -> bool:
    """The span lies within one word (an e-mail address): mask just that part of the word."""
    return start <= cut.start and cut.end <= end

