import wave
from pathlib import Path

import numpy as np
import pytest

from rtt.audio.decoder import AudioDecoder
from rtt.audio.files import load_audio_file
from rtt.errors import InvalidInput
from tests.speech_fixtures import speech_data_dir


def test_fleurs_ogg_decodes_to_16k_mono() -> None:
    path = speech_data_dir() / "fleurs" / "fleurs-es-002.ogg"
    if not path.is_file():
        pytest.skip("shared data not found")
    x = load_audio_file(path)
    assert x.dtype == np.float32 and x.ndim == 1
    assert 9.0 < len(x) / 16000 < 10.5
    assert 0.05 < np.abs(x).max() <= 1.0


def test_wav_at_48k_is_resampled(tmp_path: Path) -> None:
    p = tmp_path / "tone.wav"
    t = np.arange(48000) / 48000
    with wave.open(str(p), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(48000)
        pcm = (np.sin(2 * np.pi * 300 * t) * 10000).astype("<i2")
        w.writeframes(np.repeat(pcm, 2).tobytes())
    x = load_audio_file(p)
    assert abs(len(x) - 16000) < 50


def test_unreadable_missing_and_empty_files(tmp_path: Path) -> None:
    bad = tmp_path / "notes.wav"
    bad.write_text("this is not audio")
    with pytest.raises(InvalidInput) as err:
        load_audio_file(bad)
    assert err.value.code == "INVALID_AUDIO"
    with pytest.raises(InvalidInput) as err:
        load_audio_file(tmp_path / "missing.ogg")
    assert err.value.code == "AUDIO_NOT_FOUND"
    empty = tmp_path / "empty.wav"
    with wave.open(str(empty), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
    assert len(load_audio_file(empty)) == 0


def test_opus_packets_roundtrip() -> None:
    av = pytest.importorskip("av")
    enc = av.CodecContext.create("libopus", "w")
    enc.sample_rate = 48000
    enc.layout = "mono"
    enc.format = "s16"
    enc.open()
    t = np.arange(48000) / 48000
    x = (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)
    packets: list[bytes] = []
    for i in range(0, 48000, 960):
        frame = av.AudioFrame.from_ndarray(x[None, i : i + 960], format="s16", layout="mono")
        frame.sample_rate = 48000
        frame.pts = i
        packets += [bytes(p) for p in enc.encode(frame)]
    dec = AudioDecoder("opus", 16000)
    out = np.concatenate([dec.decode(p) for p in packets])
    assert abs(len(out) - 16000) <= 320  # codec delay
    # a 440 Hz tone survives: its spectrum peaks at 440 Hz
    spec = np.abs(np.fft.rfft(out[2000:14000]))
    assert abs(np.argmax(spec) * 16000 / 12000 - 440) < 10
    with pytest.raises(InvalidInput):
        AudioDecoder("opus", 16000).decode(b"\xff\xff\xff garbage")
