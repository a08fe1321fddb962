"""``collect``: cut a live source into utterances as it plays, transcribe and store them.

Stops at the requested amount of speech, at the end of the source, or on Ctrl-C; the
utterance in progress is kept in every case.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from lbrxvoicepro.dataset.builder import DatasetBuilder
from lbrxvoicepro.types import SpeechChunk
from lbrxvoicepro.vad import StreamSegmenter


@dataclass
class CollectStatus:
    speech_seconds: float = 0.0
    accepted: int = 0
    rejected: int = 0
    level_dbfs: float = -120.0
    interrupted: bool = False


def collect(
    builder: DatasetBuilder,
    source: Iterable[np.ndarray],
    speaker_id: str,
    max_speech_seconds: float = float("inf"),
    on_status: Callable[[CollectStatus], None] | None = None,
) -> CollectStatus:
    status = CollectStatus()
    segmenter = StreamSegmenter(builder.vad, builder.settings.dataset.segmenter)
    session = f"live:{speaker_id}:{time.strftime('%Y%m%dT%H%M%S')}"

    def keep(chunks: list[SpeechChunk]) -> None:
        if not chunks:
            return
        stored = builder.add_utterances(
            [(c.audio, c.audio, c.span) for c in chunks], speaker_id, session
        )
        status.speech_seconds += sum(u.duration for u in stored)
        status.accepted += sum(u.status == "accepted" for u in stored)
        status.rejected += sum(u.status == "rejected" for u in stored)

    try:
        for samples in source:
            if len(samples):
                status.level_dbfs = float(20 * np.log10(np.sqrt(np.mean(samples**2)) + 1e-6))
            keep(segmenter.feed(samples))
            if on_status:
                on_status(status)
            if status.speech_seconds >= max_speech_seconds:
                break
    except KeyboardInterrupt:
        status.interrupted = True
    finally:
        keep(segmenter.flush())
        if on_status:
            on_status(status)
    return status
