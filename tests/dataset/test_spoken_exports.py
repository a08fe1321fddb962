"""Speech with numbers and dates, ingested for real, exports its spoken form in every format."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from lbrxvoicepro.audio import encode, resample
from lbrxvoicepro.dataset.exporters import convert
from lbrxvoicepro.dataset.store import DatasetStore
from lbrxvoicepro.tts import create_synthesizer
from lbrxvoicepro.types import Audio, Speaker
from tests.dataset.conftest import make_builder
from tests.dataset.readers import read_csm, read_hf, read_mimi, read_moshi, read_nemo, tiny_mimi

SENTENCES = (
    "The meeting is on November 24, 2026.",
    "25 people came and each ticket cost $120.",
)


@pytest.fixture(scope="module")
def numbers_dataset(tmp_path_factory, settings, models) -> DatasetStore:
    """Piper reads each sentence after a second of silence; Whisper writes the digits back."""
    folder = tmp_path_factory.mktemp("numbers")
    voice = create_synthesizer("piper:en_US-joe-medium")
    for index, sentence in enumerate(SENTENCES):
        speech = resample(voice.synthesize_sync(sentence), 16000).samples
        silence = np.zeros(16000, dtype=np.float32)
        encode(Audio(np.concatenate([silence, speech, silence]), 16000), folder / f"{index}.wav")
    builder = make_builder(folder / "dataset", settings, models)
    builder.store.add_speaker(Speaker("joe", "Joe", "en"))
    builder.ingest(sorted(folder.glob("*.wav")), "joe")
    return builder.store


def _digits(text: str) -> bool:
    return any(char.isdigit() for char in text)


def test_whisper_writes_digits_and_the_store_keeps_both_forms(numbers_dataset) -> None:
    utterances = numbers_dataset.utterances("accepted")
    assert len(utterances) == len(SENTENCES)
    assert all(_digits(u.text) for u in utterances)
    for utterance in utterances:
        assert utterance.spoken_text and not _digits(utterance.spoken_text)
        assert [w.text for w in utterance.spoken_words] == utterance.spoken_text.split()
        starts = [w.start for w in utterance.spoken_words]
        assert starts == sorted(starts)
        assert all(0 <= w.start < w.end <= utterance.duration for w in utterance.spoken_words)


def test_every_format_trains_on_the_spoken_form(numbers_dataset, tmp_path: Path) -> None:
    spoken = {u.spoken_text for u in numbers_dataset.utterances("accepted")}
    texts: dict[str, set[str]] = {}
    for name in ("moshi", "csm", "hf", "ljspeech", "nemo"):
        convert(numbers_dataset, name, tmp_path / name, validation=0)
    moshi = read_moshi(tmp_path / "moshi" / "train")
    texts["moshi"] = {" ".join(str(a[0]) for a in row["alignments"]) for row in moshi}  # type: ignore[union-attr]
    texts["csm"] = {str(t["text"]) for c in read_csm(tmp_path / "csm" / "train") for t in c}
    texts["hf"] = set(read_hf(tmp_path / "hf")["train"]["transcription"])
    texts["nemo"] = {str(r["text"]) for r in read_nemo(tmp_path / "nemo" / "train")}
    with open(tmp_path / "ljspeech" / "train" / "metadata.csv", encoding="utf-8") as handle:
        rows = list(csv.reader(handle, delimiter="|", quoting=csv.QUOTE_NONE))
    texts["ljspeech"] = {normalized for _, _, normalized in rows}
    assert all(_digits(written) for _, written, _ in rows)
    mimi = tiny_mimi(tmp_path / "mimi-model")
    convert(numbers_dataset, "mimi", tmp_path / "mimi", validation=0, mimi_model=mimi)
    texts["mimi"] = {str(r["text"]) for r in read_mimi(tmp_path / "mimi" / "train", mimi)}
    assert texts == dict.fromkeys(texts, spoken)


def test_the_written_form_on_request(numbers_dataset, tmp_path: Path) -> None:
    convert(numbers_dataset, "nemo", tmp_path, validation=0, text_form="written")
    rows = [json.loads(line) for line in (tmp_path / "train" / "manifest.json").open()]
    assert {r["text"] for r in rows} == {u.text for u in numbers_dataset.utterances("accepted")}
