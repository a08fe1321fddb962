"""The ``lbrxvoicepro`` command as a user runs it: a real process, real files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from lbrxvoicepro.audio import load
from lbrxvoicepro.text import wer
from tests.conftest import BECKETT_TEXT, POLISH_CLIPS, beckett_path, reference

CLI = [sys.executable, "-c", "from lbrxvoicepro.cli import main; main()"]


def run(cache_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LBRX_CACHE_DIR": str(cache_dir)}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.parametrize("format", ["txt", "json", "srt", "vtt"])
def test_transcribe_writes_every_format(cache_dir, tmp_path, format):
    out = tmp_path / f"beckett.{format}"
    result = run(
        cache_dir,
        "transcribe",
        str(beckett_path()),
        "-l",
        "en",
        "-f",
        format,
        "--word-timestamps",
        "-o",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    if format == "json":
        data = json.loads(text)
        assert wer(BECKETT_TEXT, data["text"]) <= 0.1
        assert data["segments"][0]["words"][0]["start"] >= 0
    elif format == "txt":
        assert wer(BECKETT_TEXT, text) <= 0.1
    else:
        assert "-->" in text
        assert text.startswith("WEBVTT") == (format == "vtt")
    assert "real time" in result.stderr


def test_a_batch_goes_on_past_bad_files_and_reports_them(cache_dir, tmp_path):
    clips = [tmp_path / p.name for p in POLISH_CLIPS[:2]]
    for source, target in zip(POLISH_CLIPS, clips, strict=False):
        shutil.copy(source, target)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    text = tmp_path / "notes.wav"
    text.write_text("not audio at all\n" * 10)
    truncated = tmp_path / "cut.wav"
    truncated.write_bytes(POLISH_CLIPS[0].read_bytes()[:1000])
    out = tmp_path / "out"
    for extra in ([], ["--batch"]):
        result = run(
            cache_dir,
            "transcribe",
            str(clips[0]),
            str(empty),
            str(text),
            str(truncated),
            str(clips[1]),
            "-o",
            str(out),
            *extra,
        )
        assert result.returncode == 1
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 3
        assert f"error: {empty}: empty input" in errors[0]
        assert f"error: {text}: not a recognised audio format" in errors[1]
        assert f"error: {truncated}: truncated WAV" in errors[2]
        assert "3 file(s) failed" in result.stderr
        for clip, source in zip(clips, POLISH_CLIPS, strict=False):
            written = (out / f"{clip.stem}.txt").read_text(encoding="utf-8")
            assert wer(reference(source), written) < 0.35


def test_usage_errors_and_help(cache_dir, tmp_path):
    result = run(cache_dir, "transcribe", str(beckett_path()), "-f", "docx")
    assert result.returncode == 2
    assert "docx" in result.stderr
    result = run(cache_dir, "transcribe", str(beckett_path()), "-m", "no-such-model")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: no-such-model: not a known whisper model (whisper-base, whisper-tiny.en), "
        "an existing path, or a hub id"
    ]
    assert "--word-timestamps" in run(cache_dir, "transcribe", "--help").stdout


def test_models_list_shows_names_and_locations(cache_dir):
    result = run(cache_dir, "models", "list")
    assert result.returncode == 0
    for name in ("whisper-base", "whisper-tiny.en", "silero-vad"):
        assert name in result.stdout
    assert "silero_vad_16k_sequence.onnx" in result.stdout
    rows = result.stdout.splitlines()[::2]  # each model's line, then its location
    states = {row.index(state) for row in rows for state in ("ready", "joined") if state in row}
    assert len(states) == 1, "the state column is not aligned:\n" + result.stdout


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        ("serve", "Bind address [default: server.host]."),
        ("transcribe", "[default: pl]"),
        ("stats", "[default: the configured data dir]"),
    ],
)
def test_help_shows_each_default_as_written(cache_dir, command, shown) -> None:
    result = run(cache_dir, command, "--help")
    assert result.returncode == 0
    assert shown in " ".join(result.stdout.split()), result.stdout
    assert "<bool>" not in result.stdout


def test_an_english_only_model_refuses_another_language(cache_dir) -> None:
    result = run(cache_dir, "transcribe", str(beckett_path()), "-m", "whisper-tiny.en", "-l", "pl")
    assert result.returncode == 1
    assert "English-only and cannot transcribe 'pl'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("format", ["txt", "srt"])
def test_segments_are_written_as_they_are_decoded(cache_dir, tmp_path, format) -> None:
    """Two recordings back to back: Whisper decodes them as two clips, and the first clip's
    text is in the pipe while the second is still being decoded."""
    long = tmp_path / "long.wav"
    first, second = (load(clip).samples for clip in (POLISH_CLIPS[0], POLISH_CLIPS[2]))
    sf.write(long, np.concatenate([first, np.zeros(16000, np.float32), second]), 16000)
    env = {**os.environ, "LBRX_CACHE_DIR": str(cache_dir)}
    process = subprocess.Popen(
        [*CLI, "transcribe", str(long), "-f", format],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    assert process.stdout is not None
    early = os.read(process.stdout.fileno(), 65536)
    assert early.strip() and process.poll() is None, "nothing was written before the end"
    rest = process.stdout.read()
    assert process.wait(timeout=300) == 0
    assert rest.strip(), "the whole transcript came at once, at the end"
    whole = run(cache_dir, "transcribe", str(long), "-f", format, "-o", str(tmp_path / "out"))
    assert whole.returncode == 0
    assert (early + rest).decode() == (tmp_path / "out").read_text()


def test_misleading_inputs_get_errors_that_say_what_is_wrong(cache_dir, tmp_path) -> None:
    llm = run(cache_dir, "ask", "Cześć?", "--no-kb", "--llm", "ollama")
    assert llm.returncode == 2 and "neither 'llama-cpp' nor a server's base URL" in llm.stderr
    dataset = tmp_path / "data"
    assert run(cache_dir, "speaker", "anna", "--dataset", str(dataset)).returncode == 0
    mimi = run(
        cache_dir, "convert", "-f", "mimi", "-o", str(tmp_path / "out"), "--mimi-model",
        "/nope", "--dataset", str(dataset),
    )  # fmt: skip
    assert mimi.returncode == 2
    assert "/nope: no such directory" in mimi.stderr
    assert "Repo id" not in mimi.stderr
