"""The dataset product end to end, as a user drives it, and ingest surviving SIGKILL."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from pathlib import Path

from lbrxvoicepro.dataset.store import DatasetStore
from tests.conftest import POLISH_CLIPS, beckett_path
from tests.dataset.readers import (
    read_csm,
    read_hf,
    read_ljspeech,
    read_mimi,
    read_moshi,
    read_nemo,
    tiny_mimi,
)
from tests.e2e.test_cli import CLI, run

# The real English clip, read as two prompts (its speaker pauses for over a second between).
PROMPTS = ["Ever tried. Ever failed. No matter. Try again.", "Fail again. Fail better."]


def test_collect_prompted_ingest_validate_and_convert_to_every_format(cache_dir, tmp_path) -> None:
    data = tmp_path / "data"
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("\n".join(PROMPTS) + "\n")
    assert (
        run(
            cache_dir,
            "speaker",
            "reader",
            "--language",
            "en",
            "--consent-by",
            "studio",
            "--dataset",
            str(data),
        ).returncode
        == 0
    )
    collected = run(
        cache_dir,
        "collect",
        "--speaker",
        "reader",
        "--prompts",
        str(prompts),
        "--from-file",
        str(beckett_path()),
        "--dataset",
        str(data),
    )
    assert collected.returncode == 0, collected.stderr
    assert "2 of 2 prompts kept" in collected.stderr

    recordings = tmp_path / "recordings"
    recordings.mkdir()
    for clip in POLISH_CLIPS[:2]:
        shutil.copy(clip, recordings / clip.name)
    (recordings / "corrupt.flac").write_bytes(b"fLaC" + bytes(100))
    ingested = run(
        cache_dir, "ingest", str(recordings), "--speaker", "anna", "--dataset", str(data)
    )
    assert ingested.returncode == 1
    assert "corrupt.flac" in ingested.stderr and "2 file(s) ingested" in ingested.stderr
    assert run(cache_dir, "validate", "--dataset", str(data)).returncode == 0

    store = DatasetStore(data)
    accepted = store.utterances("accepted")
    assert {u.text for u in accepted if u.speaker_id == "reader"} == set(PROMPTS)
    assert len(accepted) >= 4
    mimi = tiny_mimi(tmp_path / "mimi")
    out = tmp_path / "exports"
    for format in ("moshi", "mimi", "csm", "hf", "ljspeech", "nemo"):
        extra = ["--mimi-model", str(mimi)] if format == "mimi" else []
        result = run(
            cache_dir,
            "convert",
            "--format",
            format,
            "--output",
            str(out / format),
            "--dataset",
            str(data),
            "--validation",
            "0",
            *extra,
        )
        assert result.returncode == 0, (format, result.stderr)
    assert len(read_moshi(out / "moshi" / "train")) == len(accepted)
    assert len(read_mimi(out / "mimi" / "train", mimi)) == len(accepted)
    assert sum(len(c) for c in read_csm(out / "csm" / "train")) == len(accepted)
    assert len(read_hf(out / "hf")["train"]) == len(accepted)
    assert len(read_ljspeech(out / "ljspeech" / "train")) == len(accepted)
    assert len(read_nemo(out / "nemo" / "train")) == len(accepted)


FOREGROUND_CLI = [
    *CLI[:-1],
    f"import signal; signal.signal(signal.SIGINT, signal.default_int_handler); {CLI[-1]}",
]
"""The command line as a terminal's foreground job runs it, Ctrl-C heard: a suite started in
the background (``make test &``) would pass its own ignored SIGINT on to the job."""


def _ingest_process(
    cache_dir: Path, recordings: Path, data: Path, **settings: str
) -> subprocess.Popen[bytes]:
    # One file per batch unless told otherwise, so that files are committed one by one.
    env = {
        **os.environ,
        "LBRX_CACHE_DIR": str(cache_dir),
        "LBRX_DATASET__FILES_PER_BATCH": "1",
        **settings,
    }
    return subprocess.Popen(
        [*FOREGROUND_CLI, "ingest", str(recordings), "--speaker", "anna", "--dataset", str(data)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _consistent(data: Path) -> Counter[tuple[str, float]]:
    store = DatasetStore(data)
    utterances = store.utterances()
    files = {p.relative_to(data).as_posix() for p in (data / "audio").rglob("*") if p.is_file()}
    assert files == {u.audio_path for u in utterances}
    store.close()
    return Counter((Path(u.source).name, round(u.source_start, 2)) for u in utterances)


def _progress(data: Path) -> tuple[int, int]:
    """(utterance rows, files done) in the catalog now, read without opening the store (which
    would tidy up the running job's files): a read-only SQLite connection beside the writer."""
    catalog = data / "catalog.sqlite"
    if not catalog.exists():
        return 0, 0
    with contextlib.closing(sqlite3.connect(f"file:{catalog}?mode=ro", uri=True)) as db:
        try:
            rows = db.execute("SELECT COUNT(*) FROM utterances").fetchone()[0]
            done = db.execute("SELECT COUNT(*) FROM sources WHERE status='done'").fetchone()[0]
        except sqlite3.OperationalError:  # the schema is not there yet
            return 0, 0
        return int(rows), int(done)


def test_sigkill_during_ingest_then_rerun_keeps_every_utterance_exactly_once(
    cache_dir, tmp_path
) -> None:
    """Kills land on observed progress, whatever the machine's speed: the first run dies as
    soon as its first utterance is committed (in the middle of a file: that file's utterances
    are then hidden until it is redone), the second as soon as it has finished a file (in the
    middle of the job)."""
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    for clip in POLISH_CLIPS[:3]:
        shutil.copy(clip, recordings / clip.name)
    assert _ingest_process(cache_dir, recordings, tmp_path / "reference").wait(timeout=600) == 0
    expected = _consistent(tmp_path / "reference")

    data = tmp_path / "data"
    for reached in (lambda rows, _: rows > 0, lambda _, done: done > 0):
        process = _ingest_process(cache_dir, recordings, data)
        while not reached(*_progress(data)):
            assert process.poll() is None, "the job ended before the point of the kill"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait()
        counts = _consistent(data)
        assert all(n == 1 for n in counts.values())
        assert sum(counts.values()) < sum(expected.values()), (counts, expected)
    assert sum(counts.values()) > 0, "the finished file was lost"
    assert _ingest_process(cache_dir, recordings, data).wait(timeout=600) == 0
    assert _consistent(data) == expected
    assert all(n == 1 for n in expected.values())


def test_ctrl_c_during_a_batch_keeps_the_files_done_says_so_and_a_rerun_goes_on(
    cache_dir, tmp_path
) -> None:
    """All three files share one Whisper batch group, decoded one clip at a time: each file is
    committed once its clips are decoded, not when the whole group is, and Ctrl-C (SIGINT)
    ends the job at once, keeping them."""
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    for clip in POLISH_CLIPS[:3]:
        shutil.copy(clip, recordings / clip.name)
    grouped = {"LBRX_DATASET__FILES_PER_BATCH": "8", "LBRX_ASR__BATCH_SIZE": "1"}
    reference = _ingest_process(cache_dir, recordings, tmp_path / "reference", **grouped)
    assert reference.wait(timeout=600) == 0
    expected = _consistent(tmp_path / "reference")

    data = tmp_path / "data"
    process = _ingest_process(cache_dir, recordings, data, **grouped)
    while _progress(data)[1] == 0:
        assert process.poll() is None, "the job ended before a file was done"
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 130
    said = process.stderr.read().decode() if process.stderr else ""
    done = _progress(data)[1]
    assert 1 <= done < 3, done
    assert f"interrupted: {done} file(s) ingested and kept" in said, said
    assert "Traceback" not in said
    counts = _consistent(data)
    assert all(n == 1 for n in counts.values()) and sum(counts.values()) > 0
    assert _ingest_process(cache_dir, recordings, data, **grouped).wait(timeout=600) == 0
    assert _consistent(data) == expected
