"""Speech synthesis: the Synthesizer protocol, backends by name, sentence streaming."""

from lbrxvoicepro.tts.base import SentenceSynthesizer, Synthesizer
from lbrxvoicepro.tts.registry import BACKENDS, create_synthesizer

__all__ = ["BACKENDS", "SentenceSynthesizer", "Synthesizer", "create_synthesizer"]
