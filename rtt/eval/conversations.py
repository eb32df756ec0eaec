"""Two-speaker conversations built from FLEURS clips, and how well a session's speaker labels
match them (diarization error rate, share of utterances given the right speaker).

Each FLEURS clip is one reader.  A conversation alternates two clips' halves (cut at the
quietest 200 ms near the middle, so no word is split): A1 B1 A2 B2, with a pause between turns
(``gap_s`` > 0), none (0: only the change detector can cut there) or an overlap (< 0: the next
reader starts before the last one ends; both voices are mixed there).  The reference is each
turn's span and reader.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
FRAME_S = 0.01  # the scoring grid
LEVEL_RMS = 0.08


@dataclass(frozen=True)
class Turn:
    start_s: float
    end_s: float
    speaker: str


@dataclass(frozen=True)
class Conversation:
    name: str
    audio: np.ndarray
    turns: tuple[Turn, ...]
    gap_s: float


def split_at_pause(audio: np.ndarray, window_s: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Two halves, cut at the quietest window within the middle third."""
    win = int(window_s * SAMPLE_RATE)
    lo, hi = len(audio) // 3, 2 * len(audio) // 3
    energy = np.convolve(np.square(audio[lo:hi]), np.ones(win), mode="valid")
    cut = lo + int(np.argmin(energy)) + win // 2
    return audio[:cut], audio[cut:]


def _trim(audio: np.ndarray, threshold: float = 0.05) -> np.ndarray:
    # Leading/trailing silence would count as the reader's turn in the reference.
    loud = np.flatnonzero(np.abs(audio) > threshold * max(float(np.abs(audio).max()), 1e-6))
    return audio[loud[0]:loud[-1] + 1] if len(loud) else audio


def build_conversation(clip_a: Path, clip_b: Path, gap_s: float, lead_s: float = 0.5) -> Conversation:
    from rtt.audio.files import load_audio_file

    parts: list[tuple[str, np.ndarray]] = []
    halves = {}
    for label, clip in (("A", clip_a), ("B", clip_b)):
        audio = load_audio_file(clip)
        # Readers were recorded at very different levels; a conversation's voices are not.
        audio = audio * (LEVEL_RMS / max(float(np.sqrt(np.mean(np.square(audio)))), 1e-6))
        halves[label] = [_trim(h) for h in split_at_pause(np.clip(audio, -1, 1))]
    for i in range(2):
        parts += [("A", halves["A"][i]), ("B", halves["B"][i])]
    pos = int(lead_s * SAMPLE_RATE)
    placed: list[tuple[int, str, np.ndarray]] = []
    for speaker, audio in parts:
        placed.append((pos, speaker, audio))
        pos += len(audio) + int(gap_s * SAMPLE_RATE)
    length = max(start + len(a) for start, _, a in placed) + SAMPLE_RATE
    mix = np.zeros(length, dtype=np.float32)
    for start, _, audio in placed:
        mix[start:start + len(audio)] += audio
    turns = tuple(Turn(start / SAMPLE_RATE, (start + len(a)) / SAMPLE_RATE, spk) for start, spk, a in placed)
    name = f"{clip_a.stem}+{clip_b.stem} gap={gap_s:+.1f}s"
    return Conversation(name, np.clip(mix, -1, 1), turns, gap_s)


def _grid(turns: list[Turn] | tuple[Turn, ...], n: int) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for t in turns:
        row = out.setdefault(t.speaker, np.zeros(n, dtype=bool))
        row[int(t.start_s / FRAME_S):int(np.ceil(t.end_s / FRAME_S))] = True
    return out


@dataclass(frozen=True)
class DiarizationScore:
    der: float  # (missed + false alarm + confusion) / reference speech
    missed: float
    false_alarm: float
    confusion: float
    mapping: dict[str, str]  # hypothesis label -> reference speaker


def diarization_error(reference: tuple[Turn, ...] | list[Turn], hypothesis: list[Turn]) -> DiarizationScore:
    """Frame-level DER (10 ms, no collar, overlaps scored) under the best one-to-one mapping of
    hypothesis labels onto reference speakers."""
    end = max([t.end_s for t in reference] + [t.end_s for t in hypothesis] + [0.0])
    n = int(np.ceil(end / FRAME_S)) + 1
    ref, hyp = _grid(reference, n), _grid(hypothesis, n)
    ref_count = np.sum([r.astype(int) for r in ref.values()], axis=0) if ref else np.zeros(n, int)
    hyp_count = np.sum([h.astype(int) for h in hyp.values()], axis=0) if hyp else np.zeros(n, int)
    total = float(ref_count.sum()) or 1.0
    ref_names, hyp_names = list(ref), list(hyp)
    best: tuple[float, dict[str, str]] = (-1.0, {})
    k = min(len(ref_names), len(hyp_names))
    for chosen in itertools.permutations(ref_names, k):
        for hyp_subset in itertools.combinations(hyp_names, k):
            mapping = dict(zip(hyp_subset, chosen, strict=True))
            correct = float(sum((hyp[h] & ref[r]).sum() for h, r in mapping.items()))
            if correct > best[0]:
                best = (correct, mapping)
    correct, mapping = best if best[0] >= 0 else (0.0, {})
    missed = float(np.maximum(ref_count - hyp_count, 0).sum())
    false_alarm = float(np.maximum(hyp_count - ref_count, 0).sum())
    confusion = float(np.minimum(ref_count, hyp_count).sum()) - correct
    return DiarizationScore((missed + false_alarm + confusion) / total, missed / total, false_alarm / total,
                            confusion / total, mapping)


def utterance_accuracy(reference: tuple[Turn, ...] | list[Turn], hypothesis: list[Turn],
                       mapping: dict[str, str]) -> float:
    """Share of hypothesis utterances whose (mapped) label is the reader who speaks most of it."""
    if not hypothesis:
        return 0.0
    right = 0
    for h in hypothesis:
        overlap = {t.speaker: 0.0 for t in reference}
        for t in reference:
            overlap[t.speaker] += max(0.0, min(h.end_s, t.end_s) - max(h.start_s, t.start_s))
        truth = max(overlap, key=lambda s: overlap[s])
        right += int(mapping.get(h.speaker) == truth and overlap[truth] > 0)
    return right / len(hypothesis)
