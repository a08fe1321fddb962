"""The speech-to-text protocol every ASR backend implements."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

from lbrxvoicepro.types import Audio, Segment, Transcript


class Transcriber(Protocol):
    def transcribe(
        self,
        audio: Audio,
        language: str | None = None,
        on_segment: Callable[[Segment], None] | None = None,
    ) -> Transcript:
        """Timed text of 16 kHz mono audio; ``language`` overrides the configured one;
        ``on_segment`` hears each segment as soon as it is decoded (live output)."""
        ...

    def transcribe_batch(
        self, audios: Sequence[Audio], language: str | None = None
    ) -> list[Transcript]:
        """Many inputs at once, for throughput; results in input order."""
        ...

    def transcribe_each(
        self,
        audios: Sequence[Audio],
        language: str | None = None,
        on_segment: Callable[[int, Segment], None] | None = None,
    ) -> Iterator[tuple[int, Transcript]]:
        """As ``transcribe_batch``, but each input's transcript (with its index) as soon as it
        is complete, so callers can keep finished work while the rest is decoded;
        ``on_segment`` hears each segment (with its input's index) as soon as it is decoded
        (progress within a batch)."""
        ...
