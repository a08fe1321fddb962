"""Every export format, read back the way its training code reads it."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from lbrxvoicepro import ConfigError
from lbrxvoicepro.dataset.exporters import convert, split
from lbrxvoicepro.dataset.store import DatasetError, DatasetStore


def test_moshi_layout_and_alignments(built_dataset: DatasetStore, tmp_path: Path) -> None:
    report = convert(built_dataset, "moshi", tmp_path, validation=0)
    rows = [json.loads(line) for line in (tmp_path / "train" / "data.jsonl").open()]
    assert len(rows) == report.files["train"] == len(built_dataset.utterances("accepted"))
    texts = {u.id: u.text for u in built_dataset.utterances("accepted")}
    for row in rows:
        wav = tmp_path / "train" / row["path"]
        samples, rate = sf.read(wav)
        assert rate == 24000 and samples.shape[1] == 2
        assert np.abs(samples[:, 1]).max() == 0 and np.abs(samples[:, 0]).max() > 0.05
        assert row["duration"] == pytest.approx(len(samples) / rate, abs=1e-3)
        alignments = json.loads(wav.with_suffix(".json").read_text())["alignments"]
        assert len(alignments) >= 0.8 * len(texts[wav.stem].split()) >= 1
        starts = [a[1][0] for a in alignments]
        assert starts == sorted(starts)
        for word, (start, end), speaker in alignments:
            assert word and speaker == "SPEAKER_MAIN"
            assert 0 <= start < end <= row["duration"]


def test_csm_conversations(built_dataset: DatasetStore, tmp_path: Path) -> None:
    convert(built_dataset, "csm", tmp_path, validation=0)
    conversations = json.loads((tmp_path / "train" / "conversations.json").read_text())
    assert isinstance(conversations, list) and len(conversations) == 3
    speakers = set()
    for conversation in conversations:
        assert isinstance(conversation, list) and conversation
        for turn in conversation:
            assert set(turn) == {"text", "audio_path", "speaker"}
            assert isinstance(turn["speaker"], int)
            speakers.add(turn["speaker"])
            info = sf.info(tmp_path / "train" / turn["audio_path"])
            assert info.samplerate == 24000 and info.channels == 1
    assert speakers == {0, 1}


def test_hugging_face_audiofolder_loads_with_decoded_audio(built_dataset, tmp_path) -> None:
    import datasets

    convert(built_dataset, "hf", tmp_path, by="speaker", validation=0.5, seed=3)
    loaded = datasets.load_dataset("audiofolder", data_dir=str(tmp_path))
    assert set(loaded) == {"train", "validation"}
    total = sum(len(loaded[name]) for name in loaded)
    assert total == len(built_dataset.utterances("accepted"))
    row = loaded["train"][0]
    assert row["audio"]["sampling_rate"] == 16000
    assert len(row["audio"]["array"]) / 16000 == pytest.approx(row["duration"], abs=1e-3)
    assert row["transcription"]
    assert {s for name in loaded for s in loaded[name]["speaker_id"]} == {"anna", "piotr"}
    assert set(loaded["train"]["speaker_id"]).isdisjoint(loaded["validation"]["speaker_id"])


def test_ljspeech_metadata_and_rate(built_dataset: DatasetStore, tmp_path: Path) -> None:
    convert(built_dataset, "ljspeech", tmp_path, validation=0)
    with open(tmp_path / "train" / "metadata.csv", encoding="utf-8") as handle:
        rows = list(csv.reader(handle, delimiter="|", quoting=csv.QUOTE_NONE))
    assert rows and all(len(row) == 3 for row in rows)
    for identifier, text, normalized in rows:
        assert sf.info(tmp_path / "train" / "wavs" / f"{identifier}.wav").samplerate == 22050
        assert text and normalized
        assert not any(char.isdigit() for char in normalized)


def test_nemo_manifest(built_dataset: DatasetStore, tmp_path: Path) -> None:
    convert(built_dataset, "nemo", tmp_path, validation=0)
    for line in (tmp_path / "train" / "manifest.json").open():
        row = json.loads(line)
        assert set(row) == {"audio_filepath", "duration", "text"}
        info = sf.info(tmp_path / "train" / row["audio_filepath"])
        assert info.duration == pytest.approx(row["duration"], abs=1e-3)


def test_mimi_codes_with_a_tiny_real_mimi(built_dataset, tmp_path: Path) -> None:
    from transformers import MimiConfig, MimiModel

    config = MimiConfig(
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        head_dim=16,
        intermediate_size=128,
        num_filters=8,
        codebook_dim=32,
        vector_quantization_hidden_dimension=32,
        num_quantizers=8,
        codebook_size=2048,
        upsample_groups=64,
    )
    MimiModel(config).save_pretrained(tmp_path / "mimi")
    convert(built_dataset, "mimi", tmp_path / "out", validation=0, mimi_model=tmp_path / "mimi")
    rows = [json.loads(line) for line in (tmp_path / "out" / "train" / "manifest.jsonl").open()]
    assert len(rows) == len(built_dataset.utterances("accepted"))
    for row in rows:
        codes = np.load(tmp_path / "out" / "train" / row["codes"])
        assert codes.shape == (8, math.ceil(row["duration"] * 12.5)) == (8, row["frames"])
        assert codes.min() >= 0 and codes.max() < 2048
    with pytest.raises(ConfigError, match="--mimi-model"):
        convert(built_dataset, "mimi", tmp_path / "x", validation=0)
    with pytest.raises(ConfigError, match="8 or 32"):
        convert(built_dataset, "mimi", tmp_path / "x", mimi_model=tmp_path / "mimi", codebooks=4)


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
