"""kyutai-labs/moshi-finetune: a JSONL of {path, duration}; stereo 24 kHz WAVs (main speaker
left, the other party or silence right); beside each WAV a JSON of word alignments."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from lbrxvoicepro.dataset.exporters.base import json_lines, load_audio, write_text, write_wav
from lbrxvoicepro.dataset.store import DatasetStore
from lbrxvoicepro.types import Utterance

SAMPLE_RATE = 24000
MIN_WORD_SECONDS = 0.01


def alignments(utterance: Utterance, duration: float) -> list[list[object]]:
    """Words sorted by start, each with positive duration inside the audio."""
    rows: list[list[object]] = []
    for word in sorted(utterance.words, key=lambda w: w.start):
        start = min(max(0.0, word.start), duration - MIN_WORD_SECONDS)
        end = min(max(word.end, start + MIN_WORD_SECONDS), duration)
        if word.text.strip() and end > start >= 0:
            rows.append([word.text.strip(), [round(start, 3), round(end, 3)], "SPEAKER_MAIN"])
    return rows


class MoshiExporter:
    name = "moshi"

    def write(self, store: DatasetStore, splits: dict[str, list[Utterance]], out: Path) -> None:
        for split_name, utterances in splits.items():
            rows = []
            for utterance in utterances:
                audio = load_audio(store, utterance, SAMPLE_RATE)
                stereo = np.stack([audio.samples, np.zeros_like(audio.samples)], axis=1)
                relative = f"audio/{utterance.id}.wav"
                write_wav(stereo, out / split_name / relative, SAMPLE_RATE)
                words = {"alignments": alignments(utterance, audio.duration)}
                write_text(
                    out / split_name / f"audio/{utterance.id}.json",
                    json.dumps(words, ensure_ascii=False),
                )
                rows.append({"path": relative, "duration": round(audio.duration, 4)})
            write_text(out / split_name / "data.jsonl", json_lines(rows))
