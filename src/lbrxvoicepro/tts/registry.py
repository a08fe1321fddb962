"""Voices by name: ``backend:argument`` resolved to a lazily imported backend class."""

from __future__ import annotations

import importlib

from lbrxvoicepro.errors import BackendNotInstalled, ConfigError
from lbrxvoicepro.tts.base import SentenceSynthesizer

# backend name -> (module:class, the extra that installs it, default argument)
BACKENDS = {
    "espeak": ("lbrxvoicepro.tts.espeak:EspeakSynthesizer", "espeak", "pl"),
    "piper": ("lbrxvoicepro.tts.piper:PiperSynthesizer", "piper", "en_US-joe-medium"),
    "csm": ("lbrxvoicepro.tts.csm:CSMSynthesizer", "csm", ""),
}


def create_synthesizer(voice: str) -> SentenceSynthesizer:
    """'espeak:pl', 'piper:en_US-joe-medium', 'piper:/voices/pl_PL-gosia-medium.onnx',
    'csm:/models/csm-1b' (a bare backend name takes its default)."""
    backend, _, argument = voice.partition(":")
    if backend not in BACKENDS:
        raise ConfigError(
            f"unknown voice backend {backend!r} in {voice!r}; use one of "
            + ", ".join(f"{name}:..." for name in BACKENDS)
        )
    target, extra, default = BACKENDS[backend]
    module_name, class_name = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise BackendNotInstalled.extra(backend, extra) from error
    argument = argument or default
    if not argument:
        raise ConfigError(f"{backend}: give the model, e.g. '{backend}:/path/to/model'")
    synthesizer: SentenceSynthesizer = getattr(module, class_name)(argument)
    return synthesizer
