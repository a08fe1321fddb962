"""What every exporter shares: splits, audio at the format's rate, atomic text files."""

from __future__ import annotations

import json
import os
import random
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from lbrxvoicepro.audio import encode, resample
from lbrxvoicepro.audio.io import umask_mode
from lbrxvoicepro.dataset.store import DatasetStore
from lbrxvoicepro.types import Audio, Utterance, Word

SplitBy = Literal["speaker", "ratio"]
TextForm = Literal["spoken", "written"]
"""Which transcript an export trains on: the spoken form ("czternasta trzydzieści", the
default, what TTS needs) or Whisper's written text ("14:30")."""


@dataclass
class ExportReport:
    format: str
    output: Path
    files: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


class Exporter(Protocol):
    name: str
    text_form: TextForm

    def write(self, store: DatasetStore, splits: dict[str, list[Utterance]], out: Path) -> None:
        """Write every split under ``out/<split>/`` in the format's exact layout."""
        ...


def split(
    utterances: list[Utterance], by: SplitBy, validation: float, seed: int
) -> dict[str, list[Utterance]]:
    """Train/validation split, reproducible for a seed; by speaker keeps each voice on one side."""
    rng = random.Random(seed)
    if validation <= 0:
        return {"train": list(utterances)}
    if by == "speaker":
        speakers = sorted({u.speaker_id for u in utterances})
        rng.shuffle(speakers)
        count = round(len(speakers) * validation) if len(speakers) > 1 else 0
        held_out = set(speakers[: max(count, 1 if len(speakers) > 1 else 0)])
        parts = {
            "train": [u for u in utterances if u.speaker_id not in held_out],
            "validation": [u for u in utterances if u.speaker_id in held_out],
        }
    else:
        shuffled = list(utterances)
        rng.shuffle(shuffled)
        count = round(len(shuffled) * validation)
        chosen = {u.id for u in shuffled[:count]}
        parts = {
            "train": [u for u in utterances if u.id not in chosen],
            "validation": [u for u in utterances if u.id in chosen],
        }
    return {name: items for name, items in parts.items() if items}


def training_text(utterance: Utterance, form: TextForm) -> str:
    if form == "spoken" and utterance.spoken_text:
        return utterance.spoken_text
    return utterance.text


def training_words(utterance: Utterance, form: TextForm) -> tuple[Word, ...]:
    if form == "spoken" and utterance.spoken_text:
        return utterance.spoken_words
    return utterance.words


def load_audio(store: DatasetStore, utterance: Utterance, sample_rate: int) -> Audio:
    return resample(store.read_audio(utterance), sample_rate)


def write_wav(audio: Audio | np.ndarray, path: Path, sample_rate: int | None = None) -> None:
    """16-bit WAV, mono or (for an array of shape (n, 2)) stereo, written atomically."""
    if isinstance(audio, Audio):
        encode(audio, path, "wav")
        return
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.fchmod(descriptor, umask_mode())
    with os.fdopen(descriptor, "wb") as handle:
        sf.write(handle, np.clip(audio, -1, 1), sample_rate, format="WAV", subtype="PCM_16")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def write_text(path: Path, text: str, mode: int | None = None) -> None:
    """Atomically; ``mode`` (e.g. 0o600 inside a dataset store) instead of the umask's."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.partial")
    temporary.write_text(text, encoding="utf-8")
    if mode is not None:
        temporary.chmod(mode)
    temporary.replace(path)


def json_lines(rows: Iterable[dict[str, object]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
