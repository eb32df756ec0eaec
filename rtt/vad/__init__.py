"""Voice activity detection and endpointing: where utterances start and stop."""

from rtt.vad.base import Vad
from rtt.vad.endpointer import Endpointer, SegmentAudio, SegmentEnd, SegmentStart, SilenceTimeout

__all__ = ["Endpointer", "SegmentAudio", "SegmentEnd", "SegmentStart", "SilenceTimeout", "Vad"]
