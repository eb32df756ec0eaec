"""Audio checks at the service edge: frame validity, duration accounting, clip decoding.

Frames are checked before they reach a session so that a bad frame gets a precise error and
the session keeps going.  Opus durations come from the packet's TOC byte (RFC 6716 §3.1), so
audio-seconds limits hold for compressed input too.
"""

from __future__ import annotations

import io

from rtt.audio.pcm import PIPELINE_RATE
from rtt.pipeline.options import SessionOptions
from rtt.protocol import ProtocolError

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
    try:
        opus_packet_ms(data)
    except ValueError as exc:
        raise ProtocolError("INVALID_AUDIO", f"not an Opus packet: {exc}", seq) from None


def audio_seconds(options: SessionOptions, data: bytes) -> float:
    if options.audio_format == "opus":
        try:
            return opus_packet_ms(data) / 1000.0
        except ValueError:
            return 0.0
    return len(data) / 2 / options.sample_rate


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
