"""SRT and WebVTT for a whole session, from its final events.

Cue times are audio times (``FinalAsr.start_ms``/``end_ms``).  A long utterance is split into
cues of at most ``max_chars`` characters (two lines of ~42, the common broadcast limit): at word
timestamps when the text is the transcript, in proportion to characters for a translation
(which has no timing of its own).  With diarization a cue carries its speaker: WebVTT's voice
span (``<v Speaker 1>``), ``[Speaker 1]`` in SRT.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from rtt.pipeline.events import Event, FinalAsr, FinalTranslation, WordTiming

Track = Literal["translation", "transcript"]
LINE_CHARS = 42


@dataclass(frozen=True)
class Cue:
    start_ms: float
    end_ms: float
    text: str
    speaker: str | None = None


def _pack(words: Sequence[str], max_chars: int) -> list[list[int]]:
    """Greedy groups of word indices whose joined text fits ``max_chars``."""
    groups: list[list[int]] = []
    current: list[int] = []
    length = 0
    for i, w in enumerate(words):
        extra = len(w) + (1 if current else 0)
        if current and length + extra > max_chars:
            groups.append(current)
            current, length = [], 0
            extra = len(w)
        current.append(i)
        length += extra
    if current:
        groups.append(current)
    return groups


def _wrap(text: str, line_chars: int = LINE_CHARS) -> str:
    """Two balanced lines when the cue is longer than one."""
    if len(text) <= line_chars:
        return text
    words = text.split()
    best, best_diff = 1, len(text)
    for i in range(1, len(words)):
        a, b = " ".join(words[:i]), " ".join(words[i:])
        if abs(len(a) - len(b)) < best_diff:
            best, best_diff = i, abs(len(a) - len(b))
    return " ".join(words[:best]) + "\n" + " ".join(words[best:])


def _split_timed(words: Sequence[WordTiming], start: float, end: float, max_chars: int,
                 speaker: str | None = None) -> list[Cue]:
    cues = []
    for group in _pack([w.text for w in words], max_chars):
        first, last = words[group[0]], words[group[-1]]
        cues.append(Cue(max(start, first.start_ms), min(end, last.end_ms), " ".join(words[i].text for i in group),
                        speaker))
    return cues


def _split_even(text: str, start: float, end: float, max_chars: int, speaker: str | None = None) -> list[Cue]:
    words = text.split()
    if not words:
        return []
    groups = _pack(words, max_chars)
    total = sum(len(w) + 1 for w in words)
    cues, pos = [], 0
    for group in groups:
        chunk = " ".join(words[i] for i in group)
        a = start + (end - start) * pos / total
        pos += sum(len(words[i]) + 1 for i in group)
        b = start + (end - start) * pos / total
        cues.append(Cue(a, b, chunk, speaker))
    return cues


def cues_from_events(events: Iterable[Event], track: Track = "translation", max_chars: int = 2 * LINE_CHARS,
                     target_lang: str | None = None) -> list[Cue]:
    """``target_lang``: which listener language's translations (a session may have several);
    None: the first one seen."""
    asr: dict[int, FinalAsr] = {}
    mt: dict[int, FinalTranslation] = {}
    for e in events:
        if isinstance(e, FinalAsr):
            asr[e.utterance_id] = e
        elif isinstance(e, FinalTranslation):
            target_lang = target_lang or e.target_lang
            if e.target_lang == target_lang:
                mt[e.utterance_id] = e
    cues: list[Cue] = []
    for uid in sorted(set(asr) | set(mt)):
        a, t = asr.get(uid), mt.get(uid)
        if a is None:
            # direct speech translation has no transcript but knows its audio span; text input has neither
            if track == "translation" and t is not None and t.audio_start_ms is not None and t.audio_end_ms is not None:
                cues.extend(_split_even(t.text, t.audio_start_ms, t.audio_end_ms, max_chars, t.speaker))
            continue
        if track == "transcript":
            if a.words and len(a.words) == len(a.text.split()):
                cues.extend(_split_timed(a.words, a.start_ms, a.end_ms, max_chars, a.speaker))
            else:
                cues.extend(_split_even(a.text, a.start_ms, a.end_ms, max_chars, a.speaker))
        elif t is not None:
            cues.extend(_split_even(t.text, a.start_ms, a.end_ms, max_chars, a.speaker))
    return [c for c in cues if c.text.strip()]


def cues_from_spans(spans: Iterable[tuple[float, float, str] | tuple[float, float, str, str | None]],
                    max_chars: int = 2 * LINE_CHARS) -> list[Cue]:
    """Cues for texts known only with their audio span (e.g. retained finals on the server):
    each span (start, end, text[, speaker]) is cut into cues of at most two lines, timed
    proportionally to characters."""
    cues: list[Cue] = []
    for span in sorted(spans, key=lambda s: s[0]):
        start, end, text = span[0], span[1], span[2]
        cues.extend(_split_even(text, start, end, max_chars, span[3] if len(span) > 3 else None))  # type: ignore[misc]
    return [c for c in cues if c.text.strip()]


def _stamp(ms: float, sep: str) -> str:
    total = max(0, int(round(ms)))
    h, rem = divmod(total, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, milli = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{milli:03d}"


def format_srt(cues: Sequence[Cue]) -> str:
    blocks = [
        f"{i}\n{_stamp(c.start_ms, ',')} --> {_stamp(max(c.end_ms, c.start_ms + 1), ',')}\n"
        f"{f'[{c.speaker}] ' if c.speaker else ''}{_wrap(c.text)}\n"
        for i, c in enumerate(cues, 1)
    ]
    return "\n".join(blocks)


def format_webvtt(cues: Sequence[Cue]) -> str:
    blocks = ["WEBVTT\n"] + [
        f"{_stamp(c.start_ms, '.')} --> {_stamp(max(c.end_ms, c.start_ms + 1), '.')}\n{_voice(c)}{_wrap(c.text)}\n"
        for c in cues
    ]
    return "\n".join(blocks)


def _voice(cue: Cue) -> str:
    # WebVTT voice span; "<", ">" and newlines would break the tag, so they never reach it.
    if not cue.speaker:
        return ""
    name = " ".join(cue.speaker.replace("<", " ").replace(">", " ").replace("&", "and").split())
    return f"<v {name}>"
