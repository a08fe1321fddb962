"""lbrxVoicePro: local-first voice AI toolkit, Polish first."""

from lbrxvoicepro.config import Settings, load_settings
from lbrxvoicepro.errors import (
    AudioDecodeError,
    BackendNotInstalled,
    ConfigError,
    LbrxError,
    ModelLoadError,
    ModelNotFound,
)
from lbrxvoicepro.pipeline import VoicePipeline
from lbrxvoicepro.types import Audio, Segment, SpeechSpan, Transcript, Word

__version__ = "0.1.0"

__all__ = [
    "Audio",
    "AudioDecodeError",
    "BackendNotInstalled",
    "ConfigError",
    "LbrxError",
    "ModelLoadError",
    "ModelNotFound",
    "Segment",
    "Settings",
    "SpeechSpan",
    "Transcript",
    "VoicePipeline",
    "Word",
    "__version__",
    "load_settings",
]
