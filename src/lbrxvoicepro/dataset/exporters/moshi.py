"""kyutai-labs/moshi-finetune: a JSONL of {path, duration}; stereo 24 kHz WAVs (main speaker
left, the other party or silence right); beside each WAV a JSON of word alignments."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lbrxvoicepro.dataset.exporters.base import (
    TextForm,
    json_lines,
    load_audio,
    training_words,
    write_text,
    write_wav,
)
from lbrxvoicepro.dataset.store import DatasetStore
from lbrxvoicepro.types import Utterance, Word

SAMPLE_RATE = 24000
FRAME_MS = 80
"""One Mimi frame (12.5 Hz): moshi-finetune's Interleaver places each word at the frame its
start falls in, and a word whose frame is already taken by the word before is lost."""
MIN_WORD_MS = 10


def alignments(words: Sequence[Word], duration: float) -> list[list[object]]:
    """Words sorted by start, each starting in a frame after the previous word's frame and
    ending after it starts, all inside the audio.

    Whisper gives short words ("w", "i") zero length and often the next word's start, and clamps
    words past a cut to one instant; such a word is moved into the next free frame (near the end
    of the audio, into the last frames left), so every word keeps a frame of its own. Starts
    stay off frame boundaries, where a consumer's rounding could move them a frame back.
    """
    words = [w for w in sorted(words, key=lambda w: w.start) if w.text.strip()]
    total_ms = int(duration * 1000)
    last_frame = (total_ms - MIN_WORD_MS - 1) // FRAME_MS
    if not words or last_frame < 0:
        return []
    starts: list[int] = []
    for index, word in enumerate(words):
        natural = min(max(round(word.start * 1000), 0), total_ms - MIN_WORD_MS - 1)
        lowest = starts[-1] // FRAME_MS + 1 if starts else 0
        highest = max(last_frame - (len(words) - 1 - index), lowest)
        frame = min(max(natural // FRAME_MS, lowest), highest, last_frame)
        if frame == natural // FRAME_MS:
            start = natural + (natural % FRAME_MS == 0)
        else:
            start = min(frame * FRAME_MS + FRAME_MS // 4, total_ms - MIN_WORD_MS)
        starts.append(start)
    rows: list[list[object]] = []
    for index, (word, start) in enumerate(zip(words, starts, strict=True)):
        limit = starts[index + 1] if index + 1 < len(starts) else total_ms
        end = min(max(round(word.end * 1000), start + MIN_WORD_MS), max(limit, start + MIN_WORD_MS))
        rows.append([word.text.strip(), [start / 1000, end / 1000], "SPEAKER_MAIN"])
    return rows


class MoshiExporter:
    name = "moshi"

    def __init__(self, text_form: TextForm = "spoken") -> None:
        self.text_form = text_form

    def write(self, store: DatasetStore, splits: dict[str, list[Utterance]], out: Path) -> None:
        for split_name, utterances in splits.items():
            rows = []
            for utterance in utterances:
                audio = load_audio(store, utterance, SAMPLE_RATE)
                stereo = np.stack([audio.samples, np.zeros_like(audio.samples)], axis=1)
                relative = f"audio/{utterance.id}.wav"
                write_wav(stereo, out / split_name / relative, SAMPLE_RATE)
                words = {
                    "alignments": alignments(
                        training_words(utterance, self.text_form), audio.duration
                    )
                }
                write_text(
                    out / split_name / f"audio/{utterance.id}.json",
                    json.dumps(words, ensure_ascii=False),
                )
                rows.append({"path": relative, "duration": round(audio.duration, 4)})
            write_text(out / split_name / "data.jsonl", json_lines(rows))
