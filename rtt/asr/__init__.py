"""Speech recognition: the engine protocol, faster-whisper, and incremental (streaming) decoding."""

from rtt.asr.base import AsrEngine, AsrResult, AsrWord, DecodeOptions

__all__ = ["AsrEngine", "AsrResult", "AsrWord", "DecodeOptions"]
