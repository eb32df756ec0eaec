"""eSpeak NG in-process through ctypes, using the library and data ``espeakng-loader`` ships.

eSpeak NG's API is process-global (one voice, one callback), so every call holds a class-wide
lock; it synthesises far faster than real time, so serialising is cheap.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np

from rtt.errors import BackendUnavailable, UnsupportedLanguage
from rtt.metrics.busy import BusyLock

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_ESPEAK_CHARS_UTF8 = 1
_ESPEAK_RATE = 1
_EE_OK = 0

_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)

# eSpeak voice names for the product's languages.
VOICES: dict[str, str] = {
    "en": "en-us", "es": "es", "de": "de", "fr": "fr", "it": "it", "pt": "pt", "nl": "nl",
    "ca": "ca", "pl": "pl", "ru": "ru", "zh": "cmn", "ja": "ja",
}


class EspeakEngine:
    name = "espeak"
    # The library is one per process, so is its lock (and the seconds it was held).
    _lock: ClassVar[BusyLock] = BusyLock()
    _lib: ClassVar[Any] = None
    _rate: ClassVar[int] = 22050
    _sink: ClassVar[list[np.ndarray]] = []
    _callback: ClassVar[Any] = None  # keep the ctypes callback alive for the process

    def __init__(self, words_per_minute: int = 170) -> None:
        self.words_per_minute = words_per_minute
        self._init_library()
        self.sample_rate = EspeakEngine._rate

    @classmethod
    def _init_library(cls) -> None:
        with cls._lock:
            if cls._lib is not None:
                return
            try:
                import espeakng_loader
            except ImportError as exc:
                raise BackendUnavailable("espeakng-loader is not installed: pip install espeakng-loader") from exc
            lib = ctypes.CDLL(espeakng_loader.get_library_path())
            lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
            lib.espeak_Initialize.restype = ctypes.c_int
            lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
            lib.espeak_SetVoiceByName.restype = ctypes.c_int
            lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
            lib.espeak_Synth.argtypes = [
                ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                ctypes.c_uint, ctypes.POINTER(ctypes.c_uint), ctypes.c_void_p,
            ]
            lib.espeak_Synth.restype = ctypes.c_int
            rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 200, espeakng_loader.get_data_path().encode(), 0)
            if rate <= 0:
                raise BackendUnavailable("eSpeak NG failed to initialise (data path missing?)")

            def on_audio(wav: Any, n: int, _events: Any) -> int:
                if n > 0 and wav:
                    cls._sink.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
                return 0

            cls._callback = _SynthCallback(on_audio)
            lib.espeak_SetSynthCallback(cls._callback)
            cls._lib = lib
            cls._rate = int(rate)

    def busy_seconds(self) -> float:
        return EspeakEngine._lock.seconds

    def supports(self, lang: str) -> bool:
        return lang in VOICES

    def _synth_one(self, text: str, voice: str) -> np.ndarray:
        lib = EspeakEngine._lib
        with EspeakEngine._lock:
            if lib.espeak_SetVoiceByName(voice.encode()) != _EE_OK:
                raise UnsupportedLanguage(f"eSpeak NG has no voice {voice!r}", voice=voice)
            lib.espeak_SetParameter(_ESPEAK_RATE, self.words_per_minute, 0)
            EspeakEngine._sink = []
            data = text.encode("utf-8") + b"\0"
            lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _ESPEAK_CHARS_UTF8, None, None)
            pieces, EspeakEngine._sink = EspeakEngine._sink, []
        return np.concatenate(pieces).astype(np.int16) if pieces else np.zeros(0, dtype=np.int16)

    def synthesize(self, text: str, lang: str) -> Iterator[np.ndarray]:
        if lang not in VOICES:
            raise UnsupportedLanguage(f"no eSpeak NG voice for {lang!r}", lang=lang)
        from rtt.tts.sentences import split_sentences

        for sentence in split_sentences(text):
            audio = self._synth_one(sentence, VOICES[lang])
            if len(audio):
                yield audio

    def prewarm(self, lang: str) -> None:
        for _ in self.synthesize("ok", lang):
            pass
