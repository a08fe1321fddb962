"""The speech-to-text protocol every ASR backend implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from lbrxvoicepro.types import Audio, Transcript


class Transcriber(Protocol):
    def transcribe(self, audio: Audio, language: str | None = None) -> Transcript:
        """Timed text of 16 kHz mono audio; ``language`` overrides the configured one."""
        ...

    def transcribe_batch(
        self, audios: Sequence[Audio], language: str | None = None
    ) -> list[Transcript]:
        """Many inputs at once, for throughput; results in input order."""
        ...
