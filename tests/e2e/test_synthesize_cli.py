"""``lbrxvoicepro synthesize`` as a user runs it."""

from __future__ import annotations

import os
import subprocess

import numpy as np
import pytest
import soundfile as sf

from lbrxvoicepro.audio import load
from tests.e2e.test_cli import CLI, run

TEXT = "Dzień dobry. Spotkanie jest o 14:30."


@pytest.mark.parametrize("format", ["wav", "flac", "ogg", "mp3", "opus", "aac"])
def test_writes_each_format(cache_dir, tmp_path, format) -> None:
    out = tmp_path / f"speech.{format}"
    result = run(cache_dir, "synthesize", TEXT, "-o", str(out))
    assert result.returncode == 0, result.stderr
    audio = load(out)
    assert audio.duration > 1.5
    assert "first audio after" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


def test_reads_stdin_and_streams_raw_pcm_to_stdout(cache_dir) -> None:
    env_run = subprocess.run(
        [*CLI, "synthesize", "-", "-o", "-", "--format", "pcm", "--stream"],
        input=TEXT.encode(),
        capture_output=True,
        env={**os.environ, "LBRX_CACHE_DIR": str(cache_dir)},
        timeout=120,
    )
    assert env_run.returncode == 0, env_run.stderr
    samples = np.frombuffer(env_run.stdout, dtype="<i2")
    assert len(samples) / 22050 > 1.5
    assert np.abs(samples).max() > 1000


def test_streamed_wav_file_is_complete(cache_dir, tmp_path) -> None:
    out = tmp_path / "streamed.wav"
    result = run(
        cache_dir, "synthesize", TEXT, "-o", str(out), "--stream", "-v", "piper:en_US-joe-medium"
    )
    assert result.returncode == 0, result.stderr
    info = sf.info(out)
    assert info.samplerate == 22050
    assert info.duration > 1.5


def test_errors_are_one_line(cache_dir, tmp_path) -> None:
    result = run(cache_dir, "synthesize", "?!", "-o", str(tmp_path / "x.wav"))
    assert result.returncode == 1
    assert result.stderr.strip() == "error: nothing to speak: the text has no words or numbers"
    assert not (tmp_path / "x.wav").exists()
    result = run(cache_dir, "synthesize", TEXT, "-o", str(tmp_path / "x.aiff"))
    assert result.returncode == 2
    result = run(cache_dir, "synthesize", TEXT, "-v", "nope:1", "-o", str(tmp_path / "x.wav"))
    assert result.returncode == 1
    assert "unknown voice backend 'nope'" in result.stderr


def test_play_says_clearly_when_there_is_no_output_device(cache_dir) -> None:
    result = run(cache_dir, "synthesize", TEXT, "--play")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: cannot play:")


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_a_written_file_has_the_permissions_the_umask_gives(cache_dir, tmp_path, umask) -> None:
    out = tmp_path / "powitanie.wav"
    previous = os.umask(umask)
    try:
        result = run(cache_dir, "synthesize", "Dzień dobry.", "-o", str(out))
    finally:
        os.umask(previous)
    assert result.returncode == 0, result.stderr
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_format_that_contradicts_the_file_name_is_refused(cache_dir, tmp_path) -> None:
    out = tmp_path / "y.mp3"
    result = run(cache_dir, "synthesize", "Dzień dobry.", "-o", str(out), "-f", "wav")
    assert result.returncode == 2 and "'wav' audio in a file named 'y.mp3'" in result.stderr
    assert not out.exists()
