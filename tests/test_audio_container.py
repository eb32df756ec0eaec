"""WebM/Ogg Opus streams decoded chunk by chunk (rtt/audio/container.py) and Ogg Opus encoding
of speech (rtt/audio/opus_encode.py), on a real FLEURS clip (Ogg Opus as distributed)."""

from __future__ import annotations

import io
import random
from pathlib import Path

import numpy as np
import pytest

from rtt.audio.container import OggOpusDemuxer, WebmOpusDemuxer, _laced_frames
from rtt.audio.decoder import AudioDecoder
from rtt.audio.opus_encode import OPUS_RATE, encode_ogg_opus
from rtt.errors import InvalidInput
from tests.conftest import shared_data_dir

CLIP = shared_data_dir() / "fleurs" / "fleurs-es-002.ogg"
pytestmark = pytest.mark.skipif(not CLIP.is_file(), reason="shared FLEURS data not found")


def remux(data: bytes, fmt: str, **options: str) -> bytes:
    """The clip's Opus packets in another container, as a recorder would write them (no re-encode)."""
    import av

    src = av.open(io.BytesIO(data), "r")
    out = io.BytesIO()
    with av.open(out, "w", format=fmt, options=options) as dst:
        stream = dst.add_stream_from_template(src.streams.audio[0])
        for packet in src.demux(src.streams.audio[0]):
            if packet.dts is None:
                continue
            packet.stream = stream
            dst.mux(packet)
    return out.getvalue()


def streams() -> dict[str, bytes]:
    ogg = Path(CLIP).read_bytes()
    # live=1: unknown Segment size, as Chrome's MediaRecorder writes it
    return {"ogg-opus": ogg, "webm-opus": remux(ogg, "webm"), "webm-opus live": remux(ogg, "webm", live="1")}


def chunks(data: bytes, seed: int, largest: int = 3000) -> list[bytes]:
    rng = random.Random(seed)
    out, pos = [], 0
    while pos < len(data):
        n = rng.randint(1, largest)
        out.append(data[pos:pos + n])
        pos += n
    return out


def reference_samples() -> int:
    from faster_whisper.audio import decode_audio

    return len(decode_audio(str(CLIP), sampling_rate=16000))


@pytest.mark.parametrize("name", ["ogg-opus", "webm-opus", "webm-opus live"])
def test_chunked_decoding_equals_one_shot_and_the_reference(name):
    data = streams()[name]
    encoding = name.split()[0]
    whole = AudioDecoder(encoding).decode(data)
    parts = [AudioDecoder(encoding)]
    pieces = [parts[0].decode(c) for c in chunks(data, seed=7)]
    chunked = np.concatenate(pieces)
    assert len(chunked) == len(whole)
    np.testing.assert_allclose(chunked, whole, atol=1e-6)
    # PyAV's own demuxer on the whole file: within the Opus pre-skip (6.5 ms = 104 samples at 16 kHz) and a frame
    assert abs(len(whole) - reference_samples()) <= 104 + 320
    assert float(np.sqrt(np.mean(whole ** 2))) > 0.01  # speech, not silence


@pytest.mark.parametrize("name", ["ogg-opus", "webm-opus"])
def test_a_garbage_chunk_is_refused_and_the_stream_goes_on(name):
    data = streams()[name]
    clean = len(AudioDecoder(name).decode(data))
    # where a page / a Cluster starts: bytes cut in there are not part of any element
    boundary = data.find(b"OggS" if name == "ogg-opus" else bytes.fromhex("1F43B675"), len(data) // 2)
    if boundary < 0:
        boundary = data.find(bytes.fromhex("1F43B675"))
    decoder = AudioDecoder(name)
    total = 0
    for part in (data[:boundary], data[boundary:]):  # garbage first, then between two elements
        with pytest.raises(InvalidInput) as err:
            decoder.decode(b"\x00garbage that is no container" * 10)
        assert err.value.code == "INVALID_AUDIO"
        total += sum(len(decoder.decode(c)) for c in chunks(part, seed=3))
    assert total == clean  # nothing accepted before or after the garbage is lost


def test_bytes_cut_into_an_ogg_page_fail_its_crc():
    data = streams()["ogg-opus"]
    page = data.find(b"OggS", len(data) // 2)
    demuxer = OggOpusDemuxer()
    demuxer.feed(data[:page + 40])
    with pytest.raises(InvalidInput) as err:
        demuxer.feed(b"\x55" * 300 + data[page + 40:])
    assert err.value.code == "INVALID_AUDIO"
    assert demuxer.feed(data[page + 40:])  # the stream goes on without the cut-in bytes


def test_other_containers_and_codecs_are_refused():
    with pytest.raises(InvalidInput) as err:
        AudioDecoder("webm-opus").decode(Path(CLIP).read_bytes())  # Ogg sent as WebM
    assert err.value.code == "INVALID_AUDIO"
    with pytest.raises(InvalidInput) as err:
        AudioDecoder("ogg-opus").decode(streams()["webm-opus"])
    assert err.value.code == "INVALID_AUDIO"
    flac_in_ogg = ogg_flac()
    with pytest.raises(InvalidInput) as err:
        OggOpusDemuxer().feed(flac_in_ogg)
    assert err.value.code == "UNSUPPORTED_AUDIO_FORMAT"


def ogg_flac() -> bytes:
    import av

    out = io.BytesIO()
    with av.open(out, "w", format="ogg") as dst:
        stream = dst.add_stream("flac", rate=16000)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 4096), dtype=np.int16), format="s16", layout="mono")
        frame.sample_rate, frame.pts = 16000, 0
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            dst.mux(packet)
    return out.getvalue()


def test_the_demuxer_keeps_only_an_incomplete_element_between_chunks():
    data = streams()["webm-opus"]
    demuxer = WebmOpusDemuxer()
    packets = 0
    for chunk in chunks(data, seed=11, largest=500):
        packets += len(demuxer.feed(chunk))
        assert len(demuxer._buf) < 2000  # one SimpleBlock at most, never the stream so far
    assert packets > 400  # 20 ms packets of a ~10 s clip


@pytest.mark.parametrize("lacing,header", [
    (1, bytes([2, 3, 255, 10])),  # Xiph: 3, then 255+10, the last by difference
    (2, bytes([2])),  # fixed: equal sizes
])
def test_laced_blocks_split_into_their_frames(lacing, header):
    sizes = [3, 265, 2] if lacing == 1 else [4, 4, 4]
    payload = b"".join(bytes([i]) * s for i, s in enumerate(sizes))
    frames = _laced_frames(header + payload, 0, lacing << 1)
    assert [len(f) for f in frames] == sizes and [f[0] for f in frames] == [0, 1, 2]


def test_speech_encodes_to_a_whole_ogg_opus_file_of_the_same_duration():
    import av

    rate = 22050  # Piper's rate: resampled to Opus's 48 kHz
    t = np.arange(int(rate * 1.5)) / rate
    pcm = (np.sin(2 * np.pi * 220 * t) * 8000).astype("<i2").tobytes()
    data = encode_ogg_opus(pcm, rate)
    assert data.startswith(b"OggS") and b"OpusHead" in data[:100]
    with av.open(io.BytesIO(data), "r") as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.name == "opus"
        decoded = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(stream)])
    assert abs(len(decoded) / OPUS_RATE - 1.5) < 0.01
    # the tone survives the codec: its spectrum peaks at 220 Hz
    spectrum = np.abs(np.fft.rfft(decoded[4800:52800]))
    assert abs(np.argmax(spectrum) * OPUS_RATE / 48000 - 220) < 5
    # and the file is what the session's own Ogg decoder reads too
    assert abs(len(AudioDecoder("ogg-opus").decode(data)) - 1.5 * 16000) < 400
