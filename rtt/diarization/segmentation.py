"""Who speaks when inside a few seconds of audio: pyannote's segmentation-3.0 (ONNX).

The model labels every ~17 ms frame with one of seven "powerset" classes: silence, one of
three local speakers, or two of them at once.  Local speakers are only consistent within one
call, which is all a change detector needs: the last point where one voice stops and another
carries on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rtt.metrics.busy import BusyLock

SAMPLE_RATE = 16000
FRAME_STEP = 270  # samples between output frames
FRAME_OFFSET = 721 // 2  # the receptive field's centre, in samples
MODEL_FILE = "segmentation-3.0.onnx"
# Powerset class -> the single local speaker it stands for (-1: silence or overlap).
SINGLE = np.array([-1, 0, 1, 2, -1, -1, -1])
MIN_SIDE_S = 1.0  # voiced speech each side of a change
MIN_RUN_S = 0.3  # a shorter run of one voice is noise, not a turn


@dataclass(frozen=True)
class Turn:
    start_s: float
    end_s: float
    speaker: int  # local to one call


class Segmenter:
    """Thread-safe (one ONNX session on one thread, behind a lock that counts busy time)."""

    name = "pyannote-segmentation-3.0"

    def __init__(self, model_dir: Path | str) -> None:
        import onnxruntime as ort

        self.model_dir = Path(model_dir)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self._session = ort.InferenceSession(str(self.model_dir / MODEL_FILE), sess_options=opts,
                                             providers=["CPUExecutionProvider"])
        self.lock = BusyLock()

    def busy_seconds(self) -> float:
        return self.lock.seconds

    def frames(self, audio: np.ndarray) -> np.ndarray:
        """The single local speaker of each frame (-1: nobody or several)."""
        x = np.asarray(audio, dtype=np.float32)[None, None, :]
        with self.lock:
            out = self._session.run(None, {"input": x})[0][0]
        return SINGLE[out.argmax(axis=1)]  # type: ignore[no-any-return]

    def turns(self, audio: np.ndarray) -> list[Turn]:
        """Runs of one local speaker, shorter runs dropped."""
        labels = self.frames(audio)
        turns: list[Turn] = []
        start = 0
        for i in range(1, len(labels) + 1):
            if i == len(labels) or labels[i] != labels[start]:
                spk = int(labels[start])
                a, b = _time(start), _time(i)
                if spk >= 0 and b - a >= MIN_RUN_S:
                    if turns and turns[-1].speaker == spk:
                        turns[-1] = Turn(turns[-1].start_s, b, spk)
                    else:
                        turns.append(Turn(a, b, spk))
                start = i
        return turns

    def last_change(self, audio: np.ndarray) -> float | None:
        """Seconds into ``audio`` where the last change of voice is, when both sides have at
        least MIN_SIDE_S of speech; None when one voice holds the whole window."""
        turns = self.turns(audio)
        for k in range(len(turns) - 1, 0, -1):
            after = turns[k].speaker
            before = turns[k - 1].speaker
            if after == before:
                continue
            after_s = sum(t.end_s - t.start_s for t in turns[k:] if t.speaker == after)
            before_s = sum(t.end_s - t.start_s for t in turns[:k] if t.speaker == before)
            if after_s >= MIN_SIDE_S and before_s >= MIN_SIDE_S and all(t.speaker == after for t in turns[k:]):
                return (turns[k - 1].end_s + turns[k].start_s) / 2
            return None
        return None


def _time(frame: int) -> float:
    return (frame * FRAME_STEP + FRAME_OFFSET) / SAMPLE_RATE
