"""Speaker labels: the packaged models read without PyTorch, the change detector, the online
tracker and the scorer.  Real weights from the model store and real FLEURS readers; the served
two-reader conversation is in tests/test_serve_models.py."""

from __future__ import annotations

import pickle
import struct
from pathlib import Path

import numpy as np
import pytest

from rtt.errors import RttError
from rtt.eval.conversations import Turn, build_conversation, diarization_error, utterance_accuracy
from rtt.models.store import ModelStore
from tests.conftest import shared_data_dir

FLEURS = shared_data_dir() / "fleurs"
needs_models = pytest.mark.skipif(
    not (ModelStore().is_ready("resemblyzer-encoder") and ModelStore().is_ready("pyannote-segmentation-3.0")),
    reason="diarization models not assembled; run `rtt models pull`")
needs_data = pytest.mark.skipif(not FLEURS.is_dir(), reason="shared data not found")


@pytest.fixture(scope="module")
def models():  # type: ignore[no-untyped-def]
    from rtt.config import DiarizationConfig
    from rtt.diarization.models import DiarizationModels

    return DiarizationModels.load(DiarizationConfig(), ModelStore())


def clip(name: str) -> np.ndarray:
    from rtt.audio.files import load_audio_file

    return load_audio_file(FLEURS / f"{name}.ogg")


@needs_models
def test_the_checkpoint_reads_as_torch_reads_it() -> None:
    torch = pytest.importorskip("torch")
    from rtt.diarization.torch_weights import load_legacy_checkpoint

    path = ModelStore().path("resemblyzer-encoder") / "pretrained.pt"
    ours = load_legacy_checkpoint(path)["model_state"]
    theirs = torch.load(path, map_location="cpu", weights_only=False)["model_state"]
    assert set(ours) == set(theirs)
    assert all(np.array_equal(ours[k], theirs[k].numpy()) for k in theirs)


def test_a_checkpoint_that_names_other_code_is_refused(tmp_path: Path) -> None:
    from rtt.diarization.torch_weights import LEGACY_MAGIC, load_legacy_checkpoint

    class Evil:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (print, ("this must never run",))

    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps(LEGACY_MAGIC) + pickle.dumps(1001) + pickle.dumps({}) + pickle.dumps(Evil()))
    with pytest.raises(RttError, match="not a tensor"):
        load_legacy_checkpoint(path)
    path.write_bytes(pickle.dumps(12345))
    with pytest.raises(RttError, match="not a legacy"):
        load_legacy_checkpoint(path)
    path.write_bytes(pickle.dumps(LEGACY_MAGIC) + struct.pack("<q", 3))
    with pytest.raises(RttError):
        load_legacy_checkpoint(path)


@needs_models
def test_the_numpy_encoder_matches_torchs_lstm(models) -> None:  # type: ignore[no-untyped-def]
    torch = pytest.importorskip("torch")
    from rtt.diarization.torch_weights import load_legacy_checkpoint

    state = load_legacy_checkpoint(models.encoder.model_dir / "pretrained.pt")["model_state"]
    lstm, linear = torch.nn.LSTM(40, 256, 3, batch_first=True), torch.nn.Linear(256, 256)
    lstm.load_state_dict({k[5:]: torch.from_numpy(v) for k, v in state.items() if k.startswith("lstm.")})
    linear.load_state_dict({"weight": torch.from_numpy(state["linear.weight"]), "bias": torch.from_numpy(state["linear.bias"])})
    mels = np.random.default_rng(0).random((2, 160, 40), dtype=np.float32)
    with torch.no_grad():
        _, (h, _) = lstm(torch.from_numpy(mels))
        ref = torch.relu(linear(h[-1]))
        ref = (ref / ref.norm(dim=1, keepdim=True)).numpy()
    assert np.abs(models.encoder.embed_windows(mels) - ref).max() < 1e-4


@needs_models
@needs_data
def test_one_readers_halves_sound_alike_and_two_readers_do_not(models) -> None:  # type: ignore[no-untyped-def]
    from rtt.eval.conversations import split_at_pause

    embed = models.encoder.embed
    a1, a2 = (embed(h) for h in split_at_pause(clip("fleurs-en-005")))
    b1, b2 = (embed(h) for h in split_at_pause(clip("fleurs-en-006")))
    threshold = 0.68  # the default config's
    assert a1 @ a2 > threshold and b1 @ b2 > threshold
    assert max(a1 @ b1, a1 @ b2, a2 @ b1, a2 @ b2) < threshold


@needs_models
@needs_data
def test_segmentation_finds_where_the_second_reader_takes_over(models) -> None:  # type: ignore[no-untyped-def]
    a, b = clip("fleurs-en-000"), clip("fleurs-de-001")
    joined = np.concatenate([a[16000:16000 * 5], b[16000 * 2:16000 * 6]])
    change = models.segmenter.last_change(joined)
    assert change is not None and abs(change - 4.0) < 0.5
    assert models.segmenter.last_change(a[:16000 * 8]) is None


@needs_models
@needs_data
def test_the_change_detector_cuts_a_stream_once_at_the_change(models) -> None:  # type: ignore[no-untyped-def]
    from rtt.diarization.change import SpeakerChangeDetector

    a, b = clip("fleurs-en-005"), clip("fleurs-en-006")
    # Both readers at one level (en-006 was recorded very quietly), as in a conversation.
    a, b = (x * (0.08 / np.sqrt(np.mean(np.square(x)))) for x in (a[16000:16000 * 5], b[16000:16000 * 6]))
    detector = SpeakerChangeDetector(models.segmenter, models.encoder, threshold=0.68)
    detector.start(1000)
    cuts = []
    stream = np.concatenate([a, b])
    for i in range(0, len(stream), 1600):
        detector.append(stream[i:i + 1600])
        if (cut := detector.check()) is not None:
            cuts.append(cut)
    assert len(cuts) == 1 and abs(cuts[0] - (1000 + len(a))) < 0.6 * 16000, cuts


def test_the_tracker_is_bounded_and_short_speech_founds_no_speaker() -> None:
    from rtt.diarization.tracker import SpeakerTracker

    rng = np.random.default_rng(1)
    voices = [v / np.linalg.norm(v) for v in rng.normal(size=(5, 256))]  # near-orthogonal directions

    def utter(v: np.ndarray) -> np.ndarray:
        x = v + 0.01 * rng.normal(size=256)
        return x / np.linalg.norm(x)

    tracker = SpeakerTracker(max_speakers=3, threshold=0.7)
    assert [tracker.assign(utter(voices[i]), 2.0) for i in (0, 1, 0, 2, 1)] == \
        ["Speaker 1", "Speaker 2", "Speaker 1", "Speaker 3", "Speaker 2"]
    assert tracker.assign(utter(voices[3]), 2.0) in {"Speaker 1", "Speaker 2", "Speaker 3"}  # bounded
    fresh = SpeakerTracker(max_speakers=3, threshold=0.7)
    fresh.assign(utter(voices[0]), 2.0)
    assert fresh.assign(utter(voices[1]), 0.5) == "Speaker 1" and len(fresh.voices) == 1


def test_the_scorer_maps_labels_and_counts_each_error() -> None:
    ref = [Turn(0, 2, "A"), Turn(2, 4, "B")]
    assert diarization_error(ref, [Turn(0, 2, "x"), Turn(2, 4, "y")]).der == pytest.approx(0, abs=0.01)
    half = diarization_error(ref, [Turn(0, 2, "x")])
    assert half.missed == pytest.approx(0.5, abs=0.01) and half.confusion == pytest.approx(0, abs=0.01)
    one_label = diarization_error(ref, [Turn(0, 4, "x")])
    assert one_label.confusion == pytest.approx(0.5, abs=0.01)
    hyp = [Turn(0, 2, "x"), Turn(2, 4, "y")]
    assert utterance_accuracy(ref, hyp, diarization_error(ref, hyp).mapping) == 1.0


@needs_data
def test_conversations_alternate_two_readers_with_pauses_or_overlaps() -> None:
    pause = build_conversation(FLEURS / "fleurs-en-000.ogg", FLEURS / "fleurs-en-003.ogg", 0.8)
    overlap = build_conversation(FLEURS / "fleurs-en-000.ogg", FLEURS / "fleurs-en-003.ogg", -0.3)
    assert [t.speaker for t in pause.turns] == ["A", "B", "A", "B"]
    assert all(b.start_s - a.end_s == pytest.approx(0.8, abs=1e-3) for a, b in zip(pause.turns, pause.turns[1:], strict=False))
    assert all(b.start_s < a.end_s for a, b in zip(overlap.turns, overlap.turns[1:], strict=False))
    assert len(overlap.audio) < len(pause.audio)


def test_subtitles_name_each_cues_speaker() -> None:
    from rtt.pipeline import events as ev
    from rtt.subtitles import cues_from_events, format_srt, format_webvtt

    events = [ev.FinalAsr(0, "hello there", "en", 0, 1000, 1100, speaker="Speaker 1"),
              ev.FinalTranslation(0, "hola", "hello there", "en", "es", 1200, speaker="Speaker 1"),
              ev.FinalTranslation(0, "bonjour", "hello there", "en", "fr", 1200, speaker="Speaker 1"),
              ev.FinalAsr(1, "fine thanks", "en", 1500, 2500, 2600, speaker="Speaker <2>")]
    vtt = format_webvtt(cues_from_events(events, "transcript"))
    assert "<v Speaker 1>hello there" in vtt and "<v Speaker 2>fine thanks" in vtt  # no stray "<" in the tag
    assert "[Speaker 1] hello there" in format_srt(cues_from_events(events, "transcript"))
    # One listener language per track: French when asked for, the first otherwise.
    assert "bonjour" in format_webvtt(cues_from_events(events, target_lang="fr"))
    assert "hola" in format_webvtt(cues_from_events(events)) and "bonjour" not in format_webvtt(cues_from_events(events))
