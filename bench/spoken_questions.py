"""Spoken questions for the conversation benchmarks: real read Polish speech (nEMO clips) with
silence around it, and where its speech truly ends."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lbrxvoicepro.audio import load
from lbrxvoicepro.runtime import ModelManager

FRAME = 1600
"""100 ms at 16 kHz: what a client sends at a time."""
BEFORE_S, AFTER_S = 1.0, 2.5


@dataclass
class Question:
    name: str
    text: str
    clip: np.ndarray
    """The recording alone, 16 kHz."""
    samples: np.ndarray
    """With silence before and after, as spoken to the engine."""
    speech_end_s: float
    """True end of speech in ``samples`` (seconds)."""


def questions(nemo: Path, count: int, models: ModelManager) -> list[Question]:
    """``count`` clips spread over the speakers and sentences of the manifest."""
    rows = list(csv.DictReader((nemo / "MANIFEST.tsv").open(encoding="utf-8"), delimiter="\t"))
    step = max(1, len(rows) // count)
    chosen = []
    for row in rows[::step][:count]:
        clip = load(nemo / row["file"], 16000).samples
        padded = np.concatenate(
            [np.zeros(int(BEFORE_S * 16000), np.float32), clip, np.zeros(int(AFTER_S * 16000))]
        ).astype(np.float32)
        voiced = np.flatnonzero(models.vad().probabilities(padded) >= 0.5)
        end = (voiced[-1] + 1) * 512 / 16000
        chosen.append(Question(row["file"], row["text"], clip, padded, end))
    return chosen
