"""Decode only the speech: join VAD spans into one buffer and map times back afterwards."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, replace

import numpy as np

from lbrxvoicepro.types import Audio, Segment, SpeechSpan, Word


def widen(
    spans: list[SpeechSpan], padding: float, min_gap: float, duration: float
) -> list[SpeechSpan]:
    """Pad spans and join those closer than ``min_gap``: only long silences are cut out.

    Whisper decodes best with natural context around words; what it must not see is long
    non-speech, where it invents text.
    """
    widened: list[SpeechSpan] = []
    for span in spans:
        start, end = max(0.0, span.start - padding), min(duration, span.end + padding)
        if widened and start - widened[-1].end < min_gap:
            widened[-1] = SpeechSpan(widened[-1].start, max(end, widened[-1].end))
        else:
            widened.append(SpeechSpan(start, end))
    return widened


@dataclass(frozen=True)
class SpeechTimeline:
    """Speech-only audio and, per joined piece, where it starts there and in the original."""

    audio: Audio
    joined_starts: tuple[float, ...]
    original_starts: tuple[float, ...]

    @classmethod
    def build(cls, audio: Audio, spans: list[SpeechSpan]) -> SpeechTimeline:
        pieces = [audio.slice(span.start, span.end) for span in spans]
        joined_starts, position = [], 0.0
        for piece in pieces:
            joined_starts.append(position)
            position += piece.duration
        samples = np.concatenate([p.samples for p in pieces]) if pieces else audio.samples[:0]
        return cls(
            Audio(samples, audio.sample_rate),
            tuple(joined_starts),
            tuple(span.start for span in spans),
        )

    def original_time(self, joined: float, is_end: bool = False) -> float:
        """Map a time in the joined audio back to the original input.

        An end time exactly on a seam belongs to the piece before it.
        """
        if not self.joined_starts:
            return joined
        probe = joined - 1e-6 if is_end else joined
        index = max(0, bisect.bisect_right(self.joined_starts, probe) - 1)
        return self.original_starts[index] + joined - self.joined_starts[index]

    def joined_time(self, original: float) -> float | None:
        """Where a time of the original input lies in the joined audio (None: cut out)."""
        ends = [*self.joined_starts[1:], self.audio.duration]
        for begin, joined, end in zip(self.original_starts, self.joined_starts, ends, strict=True):
            if begin <= original < begin + end - joined:
                return joined + original - begin
        return None

    def restore(self, segment: Segment) -> Segment:
        words = tuple(
            Word(
                w.text, self.original_time(w.start), self.original_time(w.end, True), w.probability
            )
            for w in segment.words
        )
        return replace(
            segment,
            start=self.original_time(segment.start),
            end=self.original_time(segment.end, True),
            words=words,
        )
