"""Whisper base (CTranslate2 int8) through the step-by-step engine, on real FLEURS speech."""

from __future__ import annotations

import numpy as np
import pytest

from rtt.asr.base import DecodeOptions
from tests.speech_fixtures import fleurs_clip, speech_config, speech_data_dir, whisper_engine  # noqa: F401

pytestmark = pytest.mark.models


def utterance(name: str) -> np.ndarray:
    from rtt.asr.offline import speech_segments
    from rtt.audio.files import load_audio_file
    from rtt.config import VadConfig
    from rtt.vad.factory import make_vad

    x = load_audio_file(fleurs_clip(name))
    spans = speech_segments(x, make_vad(VadConfig()), VadConfig())
    return x[spans[0][0] : spans[-1][1]]


def test_transcript_close_to_reference_with_word_times(whisper_engine) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from rtt.metrics.wer import word_error_rate

    audio = utterance("fleurs-es-002")
    r = whisper_engine.decode(audio, DecodeOptions(language="es", word_timestamps=True))
    ref = (speech_data_dir() / "fleurs" / "fleurs-es-002.txt").read_text().strip()
    # measured 0.0 (punctuation and case are normalised away)
    assert word_error_rate([ref], [r.text]) <= 0.15
    assert r.text[0].isupper() and r.text.rstrip()[-1] in ".!?"  # Whisper's casing/punctuation is kept
    words = r.words
    assert [w.text for w in words] == r.text.split()
    assert all(a.start_s <= b.start_s for a, b in zip(words, words[1:], strict=False))
    assert words[-1].end_s <= len(audio) / 16000 + 0.5


def test_forced_prefix_is_continued(whisper_engine) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    audio = utterance("fleurs-es-002")
    r = whisper_engine.decode(audio, DecodeOptions(language="es", prefix="Fue tanta la cantidad"))
    assert r.text.startswith("Fue tanta la cantidad ")
    assert len(r.text.split()) > 10


@pytest.mark.parametrize("clip,lang", [("fleurs-en-000", "en"), ("fleurs-es-004", "es"),
                                       ("fleurs-de-001", "de"), ("fleurs-fr-000", "fr")])
def test_spoken_language_id_from_two_seconds(whisper_engine, clip: str, lang: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    audio = utterance(clip)[: 2 * 16000]
    got, prob = whisper_engine.detect_language(audio, ("en", "es", "de", "fr"))
    assert got == lang and prob > 0.5


def test_whisper_translate_task_gives_english(whisper_engine) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from rtt.metrics.quality import corpus_chrf

    r = whisper_engine.decode(utterance("fleurs-es-002"), DecodeOptions(language="es", task="translate"))
    ref = "The number of people present was so large that it was not possible for everybody to gain access to the funeral in St. Peter's Square."
    assert corpus_chrf([r.text], [ref]).score > 25  # measured 33.7


def test_align_text_matches_the_alignment_of_a_decode(whisper_engine) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """A remote caller (the Ray ASR pool) keeps only the audio and the text: aligning them anew
    gives the words and times that aligning the decode itself gives."""
    audio = utterance("fleurs-es-002")
    result = whisper_engine.decode(audio, DecodeOptions(language="es"))
    direct = whisper_engine.align(result)
    again = whisper_engine.align_text(audio, result.text, "es")
    assert [w.text for w in again] == [w.text for w in direct] and len(direct) > 5
    assert max(abs(a.start_s - b.start_s) for a, b in zip(again, direct, strict=True)) < 0.1
    assert whisper_engine.align_text(audio, "  ", "es") == []
