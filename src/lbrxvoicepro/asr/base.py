"""The speech-to-text protocol every ASR backend implements."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
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

    def transcribe_each(
        self, audios: Sequence[Audio], language: str | None = None
    ) -> Iterator[tuple[int, Transcript]]:
        """As ``transcribe_batch``, but each input's transcript (with its index) as soon as it
        is complete, so callers can keep finished work while the rest is decoded."""
        ...
