"""The streaming pipeline (VAD → ASR → simultaneous MT → TTS) owned by one :class:`Session`."""
