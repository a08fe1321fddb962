"""Speech recognition: the Transcriber protocol and the faster-whisper backend."""

from lbrxvoicepro.asr.base import Transcriber
from lbrxvoicepro.asr.formats import FORMATS, render

__all__ = ["FORMATS", "Transcriber", "render"]
