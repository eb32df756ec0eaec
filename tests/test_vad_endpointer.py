import numpy as np
import pytest

from rtt.config import VadConfig
from rtt.vad.endpointer import Endpointer, SegmentAudio, SegmentEnd, SegmentStart, SilenceTimeout
from rtt.vad.energy import EnergyVad
from tests.speech_fixtures import silence, speech_data_dir, tone

FRAME = 480  # 30 ms


def run(probs: list[float], cfg: VadConfig) -> list[tuple[str, int, str]]:
    ep = Endpointer(cfg, FRAME)
    out = []
    for p in probs:
        for e in ep.process(np.zeros(FRAME, dtype=np.float32), p):
            if isinstance(e, SegmentStart):
                out.append(("start", e.start_sample // FRAME, ""))
            elif isinstance(e, SegmentEnd):
                out.append(("end", e.end_sample // FRAME, e.reason))
            elif isinstance(e, SilenceTimeout):
                out.append(("timeout", e.at_sample // FRAME, ""))
    for e in ep.flush():
        assert isinstance(e, SegmentEnd)
        out.append(("end", e.end_sample // FRAME, e.reason))
    return out


def test_start_needs_two_voiced_frames_and_keeps_preroll() -> None:
    cfg = VadConfig(min_silence_ms=300, speech_pad_ms=90)
    events = run([0.0] * 10 + [0.9] + [0.0] * 5 + [0.9] * 20 + [0.0] * 20, cfg)
    # the isolated click at frame 10 starts nothing; speech detected at frame 17 (2nd voiced frame),
    # utterance begins 3 pre-roll frames + 2 frames earlier
    assert events[0] == ("start", 16 - 3, "")
    assert events[1] == ("end", 36 + 10, "silence")  # 10 frames x 30 ms = 300 ms of silence
    assert len(events) == 2


def test_hysteresis_keeps_dips_inside_speech() -> None:
    cfg = VadConfig(threshold=0.5, min_silence_ms=300)
    # 0.4 is below the start threshold but above the stay-in-speech one (0.35)
    events = run([0.9] * 5 + [0.4] * 30 + [0.9] * 5 + [0.0] * 12, cfg)
    assert [e[0] for e in events] == ["start", "end"]


def test_min_silence_endpointing() -> None:
    cfg = VadConfig(min_silence_ms=600)
    short_pause = [0.9] * 10 + [0.0] * 15 + [0.9] * 10 + [0.0] * 25
    assert [e[0] for e in run(short_pause, cfg)] == ["start", "end"]  # 450 ms pause: one utterance
    cfg = VadConfig(min_silence_ms=300)
    assert [e[0] for e in run(short_pause, cfg)] == ["start", "end", "start", "end"]


def test_max_utterance_cuts_and_continues() -> None:
    cfg = VadConfig(max_utterance_s=1.5, min_silence_ms=300)
    events = run([0.9] * 110 + [0.0] * 15, cfg)  # 3.3 s of speech
    reasons = [e[2] for e in events if e[0] == "end"]
    assert reasons[:2] == ["max_length", "max_length"]
    assert reasons[-1] == "silence"
    starts = [e[1] for e in events if e[0] == "start"]
    ends = [e[1] for e in events if e[0] == "end"]
    # no audio is lost between a cut and the next utterance: it starts with the pad before the cut
    pad = round(cfg.speech_pad_ms / 30)
    assert all(e - s == pad for s, e in zip(starts[1:], ends[:-1], strict=False))


def test_long_speech_is_cut_at_a_weak_frame_before_the_limit() -> None:
    cfg = VadConfig(max_utterance_s=3.0, min_silence_ms=300)  # 100 frames; dips count from frame 67
    probs = [0.9] * 40 + [0.45] + [0.9] * 39 + [0.42] + [0.9] * 40 + [0.0] * 15
    events = run(probs, cfg)
    # the dip at frame 40 is too early to cut; the one at frame 80 ends the first utterance there
    assert events[:2] == [("start", 0, ""), ("end", 81, "max_length")]
    assert events[2] == ("start", 81 - round(cfg.speech_pad_ms / 30), "")
    assert [e[2] for e in events if e[0] == "end"] == ["max_length", "silence"]


def test_silence_timeout_once_per_silent_stretch() -> None:
    cfg = VadConfig(silence_timeout_s=0.9)
    events = run([0.0] * 100, cfg)
    assert [e[0] for e in events] == ["timeout"]


def test_flush_closes_open_utterance() -> None:
    events = run([0.9] * 10, VadConfig())
    assert events[-1][0] == "end" and events[-1][2] == "flush"


def test_utterance_audio_is_contiguous() -> None:
    cfg = VadConfig(min_silence_ms=300, speech_pad_ms=60)
    vad = EnergyVad()
    ep = Endpointer(cfg, vad.frame_samples)
    signal = np.concatenate([silence(1.0), tone(1.0), silence(1.0)])
    got = 0
    start = end = None
    for i in range(0, len(signal) - FRAME + 1, FRAME):
        frame = signal[i : i + FRAME]
        for e in ep.process(frame, vad.probability(frame)):
            if isinstance(e, SegmentAudio):
                got += len(e.samples)
            elif isinstance(e, SegmentStart):
                start = e.start_sample
            elif isinstance(e, SegmentEnd):
                end = e.end_sample
                speech_end = e.speech_end_sample
    assert start is not None and end is not None
    assert got == end - start
    assert abs(start / 16000 - (1.0 - 0.06)) < 0.05
    assert abs(speech_end / 16000 - 2.06) < 0.05


@pytest.mark.parametrize("backend", ["silero", "webrtc"])
def test_model_vads_find_the_speech_in_a_fleurs_clip(backend: str) -> None:
    path = speech_data_dir() / "fleurs" / "fleurs-es-002.ogg"
    if not path.is_file():
        pytest.skip("shared data not found")
    from rtt.asr.offline import speech_segments
    from rtt.audio.files import load_audio_file
    from rtt.vad.factory import make_vad

    cfg = VadConfig(backend=backend)
    x = load_audio_file(path)
    spans = speech_segments(x, make_vad(cfg), cfg)
    assert spans
    voiced = sum(b - a for a, b in spans) / 16000
    # the clip holds ~7 s of speech after ~2 s of near-silence
    assert 5.5 < voiced < 9.5
    assert spans[-1][1] / 16000 > 8.5
    # no VAD should call the silent lead-in speech for long
    quiet = make_vad(cfg)
    assert sum(b - a for a, b in speech_segments(np.zeros(16000 * 3, dtype=np.float32), quiet, cfg)) == 0
