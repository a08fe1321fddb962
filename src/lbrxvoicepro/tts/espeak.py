"""eSpeak NG through its C library (from the ``espeakng-loader`` wheel), in process.

A formant synthesizer: robotic but intelligible, about 250x faster than real time, with a
Polish voice. The library keeps global state, so calls are serialized by one lock.
"""

from __future__ import annotations

import ctypes
import threading
from typing import Any

import numpy as np

from lbrxvoicepro.errors import BackendNotInstalled, SynthesisError
from lbrxvoicepro.tts.base import SentenceSynthesizer

AUDIO_OUTPUT_SYNCHRONOUS = 2
POS_CHARACTER = 1
CHARS_UTF8 = 1
INITIALIZE_DONT_EXIT = 0x8000
PARAMETER_RATE = 1
_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)
_LOCK = threading.Lock()
_ENGINE: dict[str, Any] = {}


def _library() -> tuple[Any, int]:
    """Load and initialize libespeak-ng once per process."""
    if "lib" not in _ENGINE:
        try:
            import espeakng_loader
        except ImportError as error:
            raise BackendNotInstalled("espeak", "pip install espeakng-loader") from error
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        rate = lib.espeak_Initialize(
            AUDIO_OUTPUT_SYNCHRONOUS,
            200,
            espeakng_loader.get_data_path().encode(),
            INITIALIZE_DONT_EXIT,
        )
        if rate <= 0:
            raise SynthesisError("eSpeak NG failed to initialize")
        _ENGINE.update(lib=lib, rate=rate)
    return _ENGINE["lib"], _ENGINE["rate"]


class EspeakSynthesizer(SentenceSynthesizer):
    """``voice`` is an eSpeak voice name: 'pl' (default), 'en-us', 'de', ..."""

    def __init__(self, voice: str = "pl", words_per_minute: int = 165) -> None:
        self.voice = voice
        self.language = voice.split("-")[0]
        self.words_per_minute = words_per_minute
        self._lib, self._rate = _library()
        with _LOCK:
            self._select_voice()

    @property
    def sample_rate(self) -> int:
        return int(self._rate)

    def _select_voice(self) -> None:
        if self._lib.espeak_SetVoiceByName(self.voice.encode()) != 0:
            raise SynthesisError(f"eSpeak NG has no voice {self.voice!r}")
        self._lib.espeak_SetParameter(PARAMETER_RATE, self.words_per_minute, 0)

    def _render(self, sentence: str) -> np.ndarray:
        pieces: list[np.ndarray] = []

        def collect(samples: Any, count: int, events: Any) -> int:
            if count > 0:
                pieces.append(np.ctypeslib.as_array(samples, shape=(count,)).copy())
            return 0

        callback = _CALLBACK(collect)
        data = sentence.encode("utf-8") + b"\0"
        with _LOCK:
            self._select_voice()
            self._lib.espeak_SetSynthCallback(callback)
            status = self._lib.espeak_Synth(
                data, len(data), 0, POS_CHARACTER, 0, CHARS_UTF8, None, None
            )
        if status != 0:
            raise SynthesisError(f"eSpeak NG could not synthesize {sentence[:40]!r} ({status})")
        if not pieces:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(pieces).astype(np.float32) / 32768.0
