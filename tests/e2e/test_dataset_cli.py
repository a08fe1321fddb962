"""The dataset commands as a user runs them, from ingest to the original design's convert."""

from __future__ import annotations

import json
import re
import shutil

from tests.conftest import POLISH_CLIPS, beckett_path
from tests.e2e.test_cli import run


def test_ingest_stats_validate_convert(cache_dir, tmp_path) -> None:
    dataset = tmp_path / "data"
    shutil.copy(POLISH_CLIPS[4], tmp_path / "clip.wav")
    (tmp_path / "bad.wav").write_text("not audio")
    result = run(
        cache_dir,
        "ingest",
        str(tmp_path / "clip.wav"),
        str(tmp_path / "bad.wav"),
        "--speaker",
        "polish_male",
        "--dataset",
        str(dataset),
    )
    assert result.returncode == 1
    assert "1 file(s) ingested" in result.stderr
    assert f"error: {tmp_path / 'bad.wav'}: not a recognised audio format" in result.stderr

    stats = run(cache_dir, "stats", "--dataset", str(dataset))
    assert stats.returncode == 0
    assert "polish_male" in stats.stdout and "100.0%" in stats.stdout
    assert "bad.wav: not a recognised audio format" in stats.stdout

    validated = run(cache_dir, "validate", "--dataset", str(dataset))
    assert validated.returncode == 0, validated.stderr
    assert (dataset / "validation.html").exists()

    out = tmp_path / "dataset"
    converted = run(
        cache_dir,
        "convert",
        "--format",
        "moshi",
        "--output",
        str(out),
        "--dataset",
        str(dataset),
        "--validation",
        "0",
    )
    assert converted.returncode == 0, converted.stderr
    rows = [json.loads(line) for line in (out / "train" / "data.jsonl").open()]
    assert rows and all((out / "train" / r["path"]).exists() for r in rows)

    unknown = run(
        cache_dir, "convert", "--format", "kaldi", "--output", str(out), "--dataset", str(dataset)
    )
    assert unknown.returncode == 1
    assert "known formats: moshi, mimi, csm, hf, ljspeech, nemo" in unknown.stderr


def test_collect_from_a_file_source(cache_dir, tmp_path) -> None:
    dataset = tmp_path / "data"
    run(
        cache_dir,
        "speaker",
        "en_speaker",
        "--language",
        "en",
        "--consent-by",
        "tester",
        "--dataset",
        str(dataset),
    )
    result = run(
        cache_dir,
        "collect",
        "--speaker",
        "en_speaker",
        "--from-file",
        str(beckett_path()),
        "--dataset",
        str(dataset),
    )
    assert result.returncode == 0, result.stderr
    # piped: a whole line per stored utterance, not one line redrawn with carriage returns
    assert "\r" not in result.stderr
    assert any(
        line.startswith("speech ") and "accepted" in line for line in result.stderr.splitlines()
    )
    stats = run(cache_dir, "stats", "--dataset", str(dataset))
    assert re.search(r"^en_speaker +\d+ +\d+ +0:00:[0-9]{2} ", stats.stdout, re.M), stats.stdout


def test_collect_without_a_microphone_says_how_to_record(cache_dir, tmp_path) -> None:
    result = run(cache_dir, "collect", "--speaker", "x", "--dataset", str(tmp_path / "d"))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: no microphone access")
