"""Voice activity detection (Silero) and the utterance segmenter."""

from lbrxvoicepro.vad.segmenter import StreamSegmenter, UtteranceSegmenter, speech_spans
from lbrxvoicepro.vad.silero import SileroVAD

__all__ = ["SileroVAD", "StreamSegmenter", "UtteranceSegmenter", "speech_spans"]
