"""The mistakes new users make with the dataset commands: each gets a one-line error naming
what is wrong (no traceback), and nothing is created or stored by mistake."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import beckett_path
from tests.e2e.test_cli import run


def fails_cleanly(result, code: int, *fragments: str) -> None:  # type: ignore[no-untyped-def]
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


@pytest.mark.parametrize(
    "command", [["stats"], ["validate"], ["convert", "--format", "moshi", "--output", "out"]]
)
def test_a_misspelt_dataset_is_an_error_and_nothing_is_created(
    cache_dir: Path, tmp_path: Path, command: list[str]
) -> None:
    typo = tmp_path / "typo_ds"
    result = run(cache_dir, *command, "--dataset", str(typo))
    fails_cleanly(result, 1, f"no dataset at {typo}")
    assert not typo.exists() and not (tmp_path / "out").exists()


def test_a_file_given_as_a_dataset_or_an_output_folder_is_named(
    cache_dir: Path, tmp_path: Path
) -> None:
    note = tmp_path / "some_file.md"
    note.write_text("notes")
    fails_cleanly(run(cache_dir, "stats", "--dataset", str(note)), 1, f"{note} is a file")
    dataset = tmp_path / "data"
    assert run(cache_dir, "speaker", "anna", "--dataset", str(dataset)).returncode == 0
    converted = run(
        cache_dir, "convert", "-f", "moshi", "--output", str(note), "--dataset", str(dataset)
    )
    fails_cleanly(converted, 2, "is a file; give a directory")
    assert note.read_text() == "notes"


@pytest.mark.parametrize("share", ["1.5", "1", "-0.1"])
def test_convert_refuses_a_validation_share_outside_0_to_1(
    cache_dir: Path, tmp_path: Path, share: str
) -> None:
    dataset = tmp_path / "data"
    run(cache_dir, "speaker", "anna", "--dataset", str(dataset))
    result = run(
        cache_dir, "convert", "-f", "moshi", "-o", str(tmp_path / "out"), "--dataset",
        str(dataset), "--validation", share,
    )  # fmt: skip
    fails_cleanly(result, 2, "--validation")
    assert not (tmp_path / "out").exists()


def test_an_empty_speaker_or_an_unknown_language_is_refused_before_any_work(
    cache_dir: Path, tmp_path: Path
) -> None:
    dataset = tmp_path / "data"
    clip = str(beckett_path())
    empty = run(cache_dir, "ingest", clip, "--speaker", " ", "--dataset", str(dataset))
    fails_cleanly(empty, 2, "give a speaker id")
    unknown = run(
        cache_dir, "ingest", clip, "-s", "joe", "--language", "english", "--dataset", str(dataset)
    )
    fails_cleanly(unknown, 2, "unknown language 'english'")


def test_english_speech_is_stored_as_english_and_a_one_speaker_split_warns(
    cache_dir: Path, tmp_path: Path
) -> None:
    dataset = tmp_path / "data"
    shutil.copy(beckett_path(), tmp_path / "beckett.wav")
    ingested = run(
        cache_dir, "ingest", str(tmp_path / "beckett.wav"), "-s", "joe", "--language", "en",
        "--dataset", str(dataset),
    )  # fmt: skip
    assert ingested.returncode == 0, ingested.stderr
    with sqlite3.connect(dataset / "catalog.sqlite") as catalog:
        assert catalog.execute("SELECT language FROM speakers").fetchall() == [("en",)]
        texts = [row[0].lower() for row in catalog.execute("SELECT text FROM utterances")]
    assert any("fail better" in text for text in texts), texts
    relabel = run(cache_dir, "ingest", str(tmp_path / "beckett.wav"), "-s", "joe", "-l", "pl",
                  "--dataset", str(dataset))  # fmt: skip
    fails_cleanly(relabel, 1, "speaker 'joe' speaks 'en', not 'pl'")
    converted = run(
        cache_dir, "convert", "-f", "ljspeech", "-o", str(tmp_path / "out"), "--split-by",
        "speaker", "--dataset", str(dataset),
    )  # fmt: skip
    assert converted.returncode == 0, converted.stderr
    assert "warning: no validation split: --split-by speaker needs at least two speakers" in (
        converted.stderr
    )
