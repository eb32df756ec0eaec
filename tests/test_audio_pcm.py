import numpy as np
import pytest

from rtt.audio.decoder import AudioDecoder
from rtt.audio.framing import Framer
from rtt.audio.pcm import decode_pcm16le, encode_pcm16le
from rtt.audio.resample import StreamingResampler, resample
from rtt.errors import InvalidInput


def sine(rate: int, freq: float = 440.0, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return np.sin(2 * np.pi * freq * t).astype(np.float32) * 0.5


def test_pcm_roundtrip_and_odd_length() -> None:
    x = np.array([0.0, 0.5, -0.5, 0.999], dtype=np.float32)
    y = decode_pcm16le(encode_pcm16le(x))
    assert np.allclose(x, y, atol=1 / 32768)
    with pytest.raises(InvalidInput) as err:
        decode_pcm16le(b"\x00\x01\x02")
    assert err.value.code == "INVALID_AUDIO"


@pytest.mark.parametrize("rate", [8000, 24000, 48000])
def test_resample_keeps_a_tone(rate: int) -> None:
    y = resample(sine(rate), rate)
    assert len(y) == 16000
    ref = sine(16000)
    # edges carry the filter's transient; the middle must match closely
    assert np.max(np.abs(y[300:-300] - ref[300:-300])) < 1e-3


def test_resample_removes_content_above_the_new_nyquist() -> None:
    y = resample(sine(48000, freq=12000.0), 48000)  # 12 kHz cannot exist at 16 kHz
    assert np.sqrt(np.mean(y[300:-300] ** 2)) < 0.01


def test_streaming_resampler_equals_one_shot() -> None:
    x = sine(48000, seconds=0.5)
    r = StreamingResampler(48000)
    pieces = [r.process(x[i : i + 333]) for i in range(0, len(x), 333)] + [r.flush()]
    assert np.allclose(np.concatenate(pieces)[:8000], resample(x, 48000), atol=1e-6)


def test_unsupported_rate_and_format() -> None:
    with pytest.raises(InvalidInput) as err:
        AudioDecoder("pcm16le", 44100)
    assert err.value.code == "UNSUPPORTED_AUDIO_FORMAT"
    with pytest.raises(InvalidInput):
        AudioDecoder("mp3", 16000)


def test_decoder_pcm_at_8k_doubles_samples() -> None:
    dec = AudioDecoder("pcm16le", 8000)
    out = np.concatenate([dec.decode(encode_pcm16le(sine(8000)[i : i + 160])) for i in range(0, 8000, 160)])
    assert abs(len(out) + len(dec.flush()) - 16000) <= 2


def test_framer_cuts_fixed_frames_and_pads_the_tail() -> None:
    f = Framer(480)
    frames = f.push(np.ones(1000, dtype=np.float32)) + f.push(np.ones(500, dtype=np.float32))
    assert [len(x) for x in frames] == [480, 480, 480]
    tail = f.flush()
    assert len(tail) == 1 and len(tail[0]) == 480 and tail[0][60:].sum() == 0
    assert f.samples_out == 4 * 480
