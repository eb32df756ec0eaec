"""Audio input: PCM/Opus/file decoding to 16 kHz mono float32, framing and a jitter buffer.

Everything downstream (VAD, ASR) works on 16 kHz mono ``float32`` in [-1, 1]; this package is
the only place that knows about wire formats and sample rates.
"""

from rtt.audio.pcm import PIPELINE_RATE, SUPPORTED_RATES, decode_pcm16le, encode_pcm16le

__all__ = ["PIPELINE_RATE", "SUPPORTED_RATES", "decode_pcm16le", "encode_pcm16le"]
