"""Read each export back the way its consumer does, checking that consumer's rules."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import soundfile as sf

from tests.tiny_csm import tiny_mimi_config


def read_moshi(split_dir: Path) -> list[dict[str, object]]:
    """moshi-finetune's rules: JSONL of {path, duration}; stereo 24 kHz WAV; beside it a JSON
    of alignments [word, [start, end], speaker], sorted by start, inside the duration, with the
    main speaker's label; each word starting in a 12.5 Hz frame of its own (its Interleaver
    drops a word whose start frame the previous word holds)."""
    rows = []
    for line in (split_dir / "data.jsonl").read_text().splitlines():
        row = json.loads(line)
        assert set(row) == {"path", "duration"}
        wav = split_dir / row["path"]
        info = sf.info(wav)
        assert info.samplerate == 24000 and info.channels == 2
        assert math.isclose(info.duration, row["duration"], abs_tol=1e-3)
        samples, _ = sf.read(wav)
        assert np.abs(samples[:, 1]).max() == 0 < np.abs(samples[:, 0]).max()
        alignments = json.loads(wav.with_suffix(".json").read_text())["alignments"]
        frames = [math.floor(a[1][0] * 12.5) for a in alignments]
        assert frames == sorted(set(frames)), "two words start in one Mimi frame"
        for word, (start, end), speaker in alignments:
            assert word and speaker == "SPEAKER_MAIN"
            assert 0 <= start < end <= row["duration"]
        rows.append({**row, "alignments": alignments})
    return rows


def read_csm(split_dir: Path) -> list[list[dict[str, object]]]:
    """csm-mlx opens ``audio_path`` as given, from whatever folder training runs in."""
    conversations = json.loads((split_dir / "conversations.json").read_text())
    assert isinstance(conversations, list)
    for conversation in conversations:
        assert isinstance(conversation, list) and conversation
        for turn in conversation:
            assert set(turn) == {"text", "audio_path", "speaker"}
            assert isinstance(turn["speaker"], int) and turn["text"]
            info = sf.info(Path(str(turn["audio_path"])))
            assert info.samplerate == 24000 and info.channels == 1
    return conversations


def read_ljspeech(split_dir: Path) -> list[list[str]]:
    with open(split_dir / "metadata.csv", encoding="utf-8") as handle:
        rows = list(csv.reader(handle, delimiter="|", quoting=csv.QUOTE_NONE))
    for identifier, text, normalized in rows:
        assert sf.info(split_dir / "wavs" / f"{identifier}.wav").samplerate == 22050
        assert text and normalized and not any(c.isdigit() for c in normalized)
    return rows


def read_nemo(split_dir: Path) -> list[dict[str, object]]:
    """NeMo's manifest; lhotse's NeMo adapter takes the language from ``lang``."""
    rows = [json.loads(line) for line in (split_dir / "manifest.json").read_text().splitlines()]
    for row in rows:
        assert set(row) == {"audio_filepath", "duration", "text", "lang"}
        assert isinstance(row["lang"], str) and len(row["lang"]) == 2
        info = sf.info(split_dir / row["audio_filepath"])
        assert math.isclose(info.duration, row["duration"], abs_tol=1e-3)
    return rows


def read_mimi(split_dir: Path, mimi: Path, codebooks: int = 8) -> list[dict[str, object]]:
    """Codes as stored, handed to ``MimiModel.decode`` as they are (it takes int64 or int32)."""
    import torch
    from transformers import MimiModel

    model = MimiModel.from_pretrained(mimi).eval()
    rows = [json.loads(line) for line in (split_dir / "manifest.jsonl").read_text().splitlines()]
    for row in rows:
        codes = np.load(split_dir / row["codes"])
        with torch.inference_mode():
            audio = model.decode(torch.from_numpy(codes)[None]).audio_values
        assert audio.shape[-1] >= round(row["duration"] * 24000)
        assert (
            codes.shape
            == (codebooks, math.ceil(row["duration"] * 12.5))
            == (codebooks, row["frames"])
        )
        assert codes.min() >= 0 and codes.max() < 2048
    return rows


def read_hf(data_dir: Path):  # type: ignore[no-untyped-def]
    """``datasets.load_dataset("audiofolder")`` with audio decoded."""
    import datasets

    loaded = datasets.load_dataset("audiofolder", data_dir=str(data_dir))
    for split in loaded.values():
        for row in split:
            audio = row["audio"]
            assert audio["sampling_rate"] == 16000
            assert math.isclose(len(audio["array"]) / 16000, row["duration"], abs_tol=1e-3)
            assert row["transcription"]
    return loaded


def tiny_mimi(directory: Path) -> Path:
    """A randomly initialised Mimi from the real transformers config class."""
    from transformers import MimiModel

    MimiModel(tiny_mimi_config()).save_pretrained(directory)
    return directory
