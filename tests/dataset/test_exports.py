"""Every export format, read back the way its training code reads it."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest

from lbrxvoicepro import ConfigError
from lbrxvoicepro.dataset.exporters import convert, split
from lbrxvoicepro.dataset.exporters.moshi import alignments
from lbrxvoicepro.dataset.store import DatasetError, DatasetStore
from lbrxvoicepro.types import Word
from tests.dataset.readers import (
    read_csm,
    read_hf,
    read_ljspeech,
    read_mimi,
    read_moshi,
    read_nemo,
    tiny_mimi,
)


def test_moshi(built_dataset: DatasetStore, tmp_path: Path) -> None:
    report = convert(built_dataset, "moshi", tmp_path, validation=0)
    rows = read_moshi(tmp_path / "train")
    assert len(rows) == report.files["train"] == len(built_dataset.utterances("accepted"))
    texts = {u.id: u.text for u in built_dataset.utterances("accepted")}
    for row in rows:
        words = texts[Path(str(row["path"])).stem].split()
        assert len(row["alignments"]) >= 0.8 * len(words) >= 1  # type: ignore[arg-type]


def test_moshi_keeps_short_words_in_frames_of_their_own() -> None:
    """Whisper's zero-length short words, sharing the next word's start, and words past a cut,
    clamped to one instant, each get a Mimi frame of their own, in order, inside the audio."""
    words = [
        Word(" Idę", 0.10, 0.40, 0.9),
        Word(" w", 0.40, 0.40, 0.9),
        Word(" tej", 0.40, 0.40, 0.9),
        Word(" chwili", 0.40, 0.90, 0.9),
        Word(" do", 1.95, 2.30, 0.9),
        Word(" domu.", 2.10, 2.40, 0.9),
    ]
    rows = alignments(words, duration=2.0)
    assert [row[0] for row in rows] == ["Idę", "w", "tej", "chwili", "do", "domu."]
    frames = [math.floor(row[1][0] * 12.5) for row in rows]  # type: ignore[index]
    assert frames == sorted(set(frames))
    for _, (start, end), _ in rows:  # type: ignore[misc]
        assert 0 <= start < end <= 2.0
    assert rows[0][1] == [0.1, 0.4]


def test_csm_groups_each_recording_into_one_conversation(
    built_dataset, tmp_path, monkeypatch
) -> None:
    convert(built_dataset, "csm", tmp_path / "out", validation=0)
    monkeypatch.chdir(tmp_path)
    conversations = read_csm(tmp_path / "out" / "train")
    assert len(conversations) == 3
    assert {turn["speaker"] for c in conversations for turn in c} == {0, 1}


def test_hugging_face_audiofolder_split_by_speaker(built_dataset, tmp_path) -> None:
    convert(built_dataset, "hf", tmp_path, by="speaker", validation=0.5, seed=3)
    loaded = read_hf(tmp_path)
    assert set(loaded) == {"train", "validation"}
    assert sum(len(s) for s in loaded.values()) == len(built_dataset.utterances("accepted"))
    assert set(loaded["train"]["speaker_id"]).isdisjoint(loaded["validation"]["speaker_id"])


def test_ljspeech_and_nemo(built_dataset: DatasetStore, tmp_path: Path) -> None:
    accepted = len(built_dataset.utterances("accepted"))
    convert(built_dataset, "ljspeech", tmp_path / "lj", validation=0)
    convert(built_dataset, "nemo", tmp_path / "nemo", validation=0)
    assert len(read_ljspeech(tmp_path / "lj" / "train")) == accepted
    nemo = read_nemo(tmp_path / "nemo" / "train")
    assert len(nemo) == accepted and {row["lang"] for row in nemo} == {"pl"}


def test_mimi_codes_with_a_tiny_real_mimi(built_dataset, tmp_path: Path) -> None:
    mimi = tiny_mimi(tmp_path / "mimi")
    convert(built_dataset, "mimi", tmp_path / "out", validation=0, mimi_model=mimi)
    rows = read_mimi(tmp_path / "out" / "train", mimi)
    assert len(rows) == len(built_dataset.utterances("accepted"))
    with pytest.raises(ConfigError, match="--mimi-model"):
        convert(built_dataset, "mimi", tmp_path / "x", validation=0)
    with pytest.raises(ConfigError, match="8 or 32"):
        convert(built_dataset, "mimi", tmp_path / "x", mimi_model=mimi, codebooks=4)


def test_unknown_format_lists_the_known_ones(built_dataset, tmp_path) -> None:
    with pytest.raises(ConfigError, match="known formats: moshi, mimi, csm, hf, ljspeech, nemo"):
        convert(built_dataset, "wav2vec", tmp_path)
    with pytest.raises(DatasetError, match="no accepted utterances"):
        convert(DatasetStore(tmp_path / "empty"), "moshi", tmp_path / "o")


def test_splits_are_reproducible_and_respect_speakers(built_dataset) -> None:
    utterances = built_dataset.utterances("accepted")
    first = split(utterances, "ratio", 0.4, seed=7)
    assert split(utterances, "ratio", 0.4, seed=7) == first
    assert sum(len(v) for v in first.values()) == len(utterances)
    by_speaker = split(utterances, "speaker", 0.5, seed=1)
    train = {u.speaker_id for u in by_speaker["train"]}
    assert train.isdisjoint({u.speaker_id for u in by_speaker["validation"]})


@pytest.mark.parametrize("format", ["moshi", "ljspeech", "csm"])
def test_exported_files_follow_the_umask_while_the_store_stays_private(
    built_dataset: DatasetStore, tmp_path: Path, format: str
) -> None:
    """A training job running as another user must read an export; the store stays 0600."""
    previous = os.umask(0o022)
    try:
        convert(built_dataset, format, tmp_path / format, validation=0)
    finally:
        os.umask(previous)
    exported = [p for p in (tmp_path / format).rglob("*") if p.is_file()]
    assert exported and {p.stat().st_mode & 0o777 for p in exported} == {0o644}
    stored = [p for p in (built_dataset.root / "audio").rglob("*") if p.is_file()]
    assert stored and {p.stat().st_mode & 0o777 for p in stored} == {0o600}
