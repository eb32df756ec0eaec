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


def test_a_vocabulary_lets_whisper_spell_terms_it_misses_without(whisper_engine) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """On the vocabulary golden set (Piper speech; its noise makes each run's audio differ a
    little), the terms as the session vocabulary are found far more often, and some term that
    the plain decode misses is spelled right with them (reports/speech/vocabulary.md: 0.11 -> 0.43
    at beam 1)."""
    from rtt.asr.vocabulary import vocabulary_prompt
    from rtt.bench.vocabulary import load_items, synthesize, term_hits
    from rtt.config import load_config
    from rtt.models.store import ModelStore
    from rtt.tts.router import TtsRouter

    config = load_config()
    if not ModelStore().is_ready(config.tts.piper_model):
        pytest.skip("Piper voice not assembled")
    tts = TtsRouter(config.tts)
    items = load_items()
    prompt = vocabulary_prompt([t for it in items for t in it["terms"]])
    plain = found = 0
    flipped = []
    for it in items:
        audio = synthesize(tts, it["text"])
        without = whisper_engine.decode(audio, DecodeOptions(language="en")).text
        with_ = whisper_engine.decode(audio, DecodeOptions(language="en", prompt=prompt)).text
        plain, found = plain + term_hits(without, it["terms"]), found + term_hits(with_, it["terms"])
        flipped += [t for t in it["terms"] if t.lower() not in without.lower() and t.lower() in with_.lower()]
    assert found >= plain + 4 and flipped, (plain, found)
