"""Audio checks at the service edge: frame validity, duration accounting, clip decoding.

Frames are checked before they reach a session so that a bad frame gets a precise error and
the session keeps going.  Opus durations come from the packet's TOC byte (RFC 6716 §3.1), so
audio-seconds limits hold for compressed input too; a WebM/Ogg chunk is measured by the Opus
packets it completes (:class:`StreamMeter`).
"""

from __future__ import annotations

import asyncio
import copy
import io

from rtt.audio.container import DEMUXERS, Demuxer
from rtt.audio.pcm import PIPELINE_RATE
from rtt.errors import RttError
from rtt.pipeline.options import SessionOptions
from rtt.protocol import ProtocolError, TtsAudio

# RFC 6716 table 2: frame duration (ms) by TOC config number.
_SILK_MS = (10.0, 20.0, 40.0, 60.0)
_HYBRID_MS = (10.0, 20.0)
_CELT_MS = (2.5, 5.0, 10.0, 20.0)


def opus_packet_ms(packet: bytes) -> float:
    """Duration of one Opus packet; raises ``ValueError`` when the header is not valid Opus."""
    if not packet:
        raise ValueError("empty packet")
    toc = packet[0]
    config = toc >> 3
    if config < 12:
        frame_ms = _SILK_MS[config % 4]
    elif config < 16:
        frame_ms = _HYBRID_MS[config % 2]
    else:
        frame_ms = _CELT_MS[config % 4]
    code = toc & 3
    if code == 0:
        frames = 1
    elif code in (1, 2):
        frames = 2
        if code == 1 and (len(packet) - 1) % 2:
            raise ValueError("code 1 packet with an odd payload")
    else:
        if len(packet) < 2:
            raise ValueError("code 3 packet without a frame count")
        frames = packet[1] & 0x3F
        if frames == 0:
            raise ValueError("code 3 packet with zero frames")
    duration = frame_ms * frames
    if duration > 120.0:
        raise ValueError(f"packet of {duration} ms is over Opus's 120 ms")
    return duration


def check_audio_frame(data: bytes, encoding: str, max_bytes: int, seq: int | None = None) -> None:
    if len(data) > max_bytes:
        raise ProtocolError("FRAME_TOO_LARGE", f"audio frame of {len(data)} bytes; the limit is {max_bytes}", seq)
    if not data:
        raise ProtocolError("INVALID_AUDIO", "audio frame is empty", seq)
    if encoding == "pcm16le":
        if len(data) % 2:
            raise ProtocolError(
                "INVALID_AUDIO", f"PCM16 frame has an odd number of bytes ({len(data)}); send whole samples", seq
            )
        return
    if encoding in DEMUXERS:
        return  # a chunk of a stream is checked by the session's StreamMeter, which knows what came before
    try:
        opus_packet_ms(data)
    except ValueError as exc:
        raise ProtocolError("INVALID_AUDIO", f"not an Opus packet: {exc}", seq) from None


class StreamMeter:
    """A session's WebM/Ogg Opus stream at the edge: each chunk's validity and audio seconds.

    It demuxes what the session's decoder will demux again, so that a chunk is refused (with
    its seq, before it is queued) or counted against the audio limits when it arrives; the
    demuxing is a small part of the decoding's cost.  A chunk moves the meter on only when
    :meth:`commit` says the session took it, so the meter and the decoder see the same bytes.
    """

    def __init__(self, encoding: str) -> None:
        self._demuxer: Demuxer = DEMUXERS[encoding]()
        self._pending: Demuxer | None = None

    def measure(self, data: bytes, seq: int | None = None) -> float:
        trial = copy.copy(self._demuxer)  # the demuxers' state is immutable values: a shallow copy is a snapshot
        try:
            packets = trial.feed(data)
            seconds = sum(opus_packet_ms(p) for p in packets) / 1000.0
        except RttError as exc:
            raise ProtocolError(exc.code, exc.message, seq) from None
        except ValueError as exc:
            raise ProtocolError("INVALID_AUDIO", f"the stream holds a packet that is not Opus: {exc}", seq) from None
        self._pending = trial
        return seconds

    def commit(self) -> None:
        if self._pending is not None:
            self._demuxer, self._pending = self._pending, None


def audio_seconds(options: SessionOptions, data: bytes) -> float:
    if options.audio_format == "opus":
        try:
            return opus_packet_ms(data) / 1000.0
        except ValueError:
            return 0.0
    return len(data) / 2 / options.sample_rate


async def tts_as_opus(msg: TtsAudio) -> None:
    """A tts_audio message's PCM as one Ogg Opus file (in a worker thread: about 10 ms a second
    of speech).  An empty chunk stays empty."""
    from rtt.audio.opus_encode import OPUS_RATE, encode_ogg_opus

    if isinstance(msg.audio, bytes) and msg.audio:
        msg.audio = await asyncio.to_thread(encode_ogg_opus, msg.audio, msg.sample_rate)
    msg.encoding, msg.sample_rate = "opus", OPUS_RATE


def decode_clip(data: bytes, max_seconds: float) -> bytes:
    """Any container/codec PyAV reads (ogg/opus, flac, wav, mp3, webm) -> PCM16LE mono 16 kHz."""
    import numpy as np
    from faster_whisper.audio import decode_audio

    from rtt.audio.pcm import encode_pcm16le

    try:
        samples = decode_audio(io.BytesIO(data), sampling_rate=PIPELINE_RATE)
    except Exception as exc:  # PyAV raises many types for undecodable input
        raise ProtocolError("INVALID_AUDIO", f"the uploaded audio could not be decoded ({type(exc).__name__})") from None
    if len(samples) == 0:
        raise ProtocolError("INVALID_AUDIO", "the uploaded audio holds no samples")
    check_clip_duration(len(samples) / PIPELINE_RATE, max_seconds)
    return encode_pcm16le(np.asarray(samples, dtype=np.float32))


def pcm_to_pipeline_rate(raw: bytes, sample_rate: int) -> bytes:
    """Raw PCM16LE at 8/16/24/48 kHz -> 16 kHz."""
    from rtt.audio.pcm import decode_pcm16le, encode_pcm16le
    from rtt.audio.resample import resample

    if sample_rate == PIPELINE_RATE:
        return raw
    return encode_pcm16le(resample(decode_pcm16le(raw), sample_rate, PIPELINE_RATE))


def check_clip_duration(seconds: float, max_seconds: float) -> None:
    if seconds > max_seconds:
        raise ProtocolError("CLIP_TOO_LONG", f"clip of {seconds:.1f} s; the limit is {max_seconds:g} s")
