"""PCM16LE speech -> a self-contained Ogg Opus file (RFC 7845), what browsers play as it is.

Each call makes a whole file (headers, audio pages, end-of-stream page), so every ``tts_audio``
chunk decodes on its own: ``AudioContext.decodeAudioData`` and ``<audio>`` take complete files,
not the middle of a stream.  The price is about 100 bytes of headers per chunk.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

# libopus takes 8/12/16/24/48 kHz; decoders output 48 kHz whatever went in.
OPUS_RATE = 48000
# Speech at 32 kbit/s mono is transparent enough for synthesized voices (libopus's VoIP range).
BITRATE = 32000


def encode_ogg_opus(pcm16: bytes, sample_rate: int, bitrate: int = BITRATE) -> bytes:
    import av

    samples = np.frombuffer(pcm16[: len(pcm16) // 2 * 2], dtype="<i2").reshape(1, -1)
    out = io.BytesIO()
    with av.open(out, "w", format="ogg") as container:
        stream: Any = container.add_stream("libopus", rate=OPUS_RATE)
        stream.layout = "mono"
        stream.bit_rate = bitrate
        resampler: Any = av.AudioResampler(format="s16", layout="mono", rate=OPUS_RATE)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples), format="s16", layout="mono")
        frame.sample_rate = sample_rate
        frame.pts = 0
        for resampled in [*resampler.resample(frame), *resampler.resample(None)]:
            for packet in stream.encode(resampled):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()
