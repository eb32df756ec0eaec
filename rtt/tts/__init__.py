"""Speech synthesis of final translations: eSpeak NG for every language, Piper where a voice exists."""

from rtt.tts.base import TtsEngine, chunk_pcm

__all__ = ["TtsEngine", "chunk_pcm"]
