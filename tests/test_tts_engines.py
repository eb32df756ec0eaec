import numpy as np
import pytest

from rtt.config import TtsConfig
from rtt.errors import UnsupportedLanguage
from rtt.tts.base import chunk_pcm
from rtt.tts.router import TtsRouter
from rtt.tts.sentences import split_sentences
from tests.speech_fixtures import store_has


def test_chunking_is_exact_and_keeps_every_sample() -> None:
    pieces = iter([np.arange(1000, dtype=np.int16), np.arange(500, dtype=np.int16)])
    chunks = list(chunk_pcm(pieces, 10000, 80))  # 800 samples per chunk
    assert [len(c) // 2 for c in chunks] == [800, 700]
    joined = np.frombuffer(b"".join(chunks), dtype="<i2")
    assert np.array_equal(joined, np.concatenate([np.arange(1000), np.arange(500)]))


def test_sentence_split() -> None:
    assert split_sentences("Hola. ¿Qué tal? Bien!  ") == ["Hola.", "¿Qué tal?", "Bien!"]


@pytest.mark.parametrize("lang", ["es", "de", "fr", "en"])
def test_espeak_speaks_each_language(lang: str) -> None:
    router = TtsRouter(TtsConfig(voices={}))
    chunks = list(router.stream("Uno dos tres. Cuatro cinco.", lang))
    assert router.engine_for(lang).name == "espeak"
    audio = np.frombuffer(b"".join(c.pcm16 for c in chunks), dtype="<i2")
    seconds = len(audio) / chunks[0].sample_rate
    assert 1.0 < seconds < 6.0
    assert np.abs(audio).max() > 1000  # not silence
    assert chunks[-1].is_last


def test_unknown_language_is_refused() -> None:
    with pytest.raises(UnsupportedLanguage):
        TtsRouter(TtsConfig(voices={})).engine_for("xx")


@pytest.mark.models
def test_piper_voice_for_english() -> None:
    if not store_has("piper-en-us-joe-medium"):
        pytest.skip("piper voice not assembled")
    router = TtsRouter(TtsConfig())
    router.prewarm(["en"])
    assert router.engine_for("en").name == "piper"
    chunks = list(router.stream("Good afternoon everyone. The meeting starts now.", "en"))
    audio = np.frombuffer(b"".join(c.pcm16 for c in chunks), dtype="<i2")
    assert 2.0 < len(audio) / chunks[0].sample_rate < 7.0
    assert np.abs(audio).max() > 1000
    # Spanish still has a voice: eSpeak NG
    assert router.engine_for("es").name == "espeak"


def test_missing_piper_model_falls_back_to_espeak(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from rtt.models.store import ModelStore

    router = TtsRouter(TtsConfig(), ModelStore(root=tmp_path))
    assert router.engine_for("en").name == "espeak"
