"""lbrxVoicePro: local-first voice AI toolkit, Polish first."""

import importlib
from typing import TYPE_CHECKING, Any

from lbrxvoicepro.config import Settings, load_settings
from lbrxvoicepro.errors import (
    AudioDecodeError,
    BackendNotInstalled,
    ConfigError,
    LbrxError,
    ModelLoadError,
    ModelNotFound,
    SynthesisError,
)
from lbrxvoicepro.pipeline import VoicePipeline
from lbrxvoicepro.types import Audio, AudioChunk, Segment, SpeechSpan, Transcript, Word

if TYPE_CHECKING:
    from lbrxvoicepro.tts.csm import ContextSegment, CSMSynthesizer
    from lbrxvoicepro.tts.espeak import EspeakSynthesizer
    from lbrxvoicepro.tts.piper import PiperSynthesizer
    from lbrxvoicepro.tts.registry import create_synthesizer

__version__ = "0.1.0"

# Speech synthesis is imported on first use, so `transcribe` does not pay for it at start-up.
_LAZY = {
    "CSMSynthesizer": "lbrxvoicepro.tts.csm",
    "ContextSegment": "lbrxvoicepro.tts.csm",
    "EspeakSynthesizer": "lbrxvoicepro.tts.espeak",
    "PiperSynthesizer": "lbrxvoicepro.tts.piper",
    "create_synthesizer": "lbrxvoicepro.tts.registry",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'lbrxvoicepro' has no attribute {name!r}")


__all__ = [
    "Audio",
    "AudioChunk",
    "AudioDecodeError",
    "BackendNotInstalled",
    "CSMSynthesizer",
    "ConfigError",
    "ContextSegment",
    "EspeakSynthesizer",
    "LbrxError",
    "ModelLoadError",
    "ModelNotFound",
    "PiperSynthesizer",
    "Segment",
    "Settings",
    "SpeechSpan",
    "SynthesisError",
    "Transcript",
    "VoicePipeline",
    "Word",
    "__version__",
    "create_synthesizer",
    "load_settings",
]
