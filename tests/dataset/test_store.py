"""The store keeps every committed utterance and nothing else, whatever kills the writer."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np

from lbrxvoicepro.audio import decode
from lbrxvoicepro.dataset.store import DatasetStore
from lbrxvoicepro.types import Audio, Speaker, Utterance, Word

WRITER = """
import sys, numpy as np
from pathlib import Path
from lbrxvoicepro.dataset.store import DatasetStore
from lbrxvoicepro.types import Audio, Speaker, Utterance
store = DatasetStore(Path(sys.argv[1]))
store.add_speaker(Speaker("s", "S", "pl"))
rng = np.random.default_rng(int(sys.argv[2]))
while True:
    audio = Audio((0.1 * rng.standard_normal(16000 * 3)).astype(np.float32), 16000)
    draft = Utterance("", "s", "", 0, 0, "tekst", (), "pl", "src", 0.0, 3.0)
    store.add_utterance(audio, draft)
    print("committed", flush=True)
"""


def _draft(source: str = "src") -> Utterance:
    return Utterance("", "s", "", 0, 0, "ala ma kota", (), "pl", source, 0.0, 1.0)


def test_utterances_round_trip_through_the_catalog(tmp_path: Path) -> None:
    store = DatasetStore(tmp_path)
    store.add_speaker(Speaker("s", "Sam", "pl", True, "2026-11-24", "operator"))
    audio = Audio(np.sin(np.arange(16000) / 10).astype(np.float32) * 0.5, 16000)
    stored = store.add_utterance(audio, _draft())
    store.close()
    reopened = DatasetStore(tmp_path)
    [again] = reopened.utterances()
    assert again == stored
    assert reopened.speaker("s").consent_by == "operator"
    assert np.allclose(decode(reopened.audio(again)).samples, audio.samples, atol=1e-4)


def test_sigkill_at_any_moment_loses_nothing_committed_and_leaves_no_orphans(
    tmp_path: Path,
) -> None:
    """Each writer is killed right after its n-th commit, in the middle of writing the next
    utterance (its audio file, fsync or transaction), whatever the machine's speed."""
    committed = 0
    for seed, commits in enumerate([1, 3, 2, 4, 1]):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path), str(seed)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert writer.stdout is not None
        for _ in range(commits):
            assert writer.stdout.readline() == "committed\n"
        os.kill(writer.pid, signal.SIGKILL)
        output, _ = writer.communicate()
        committed += commits + output.count("committed")
        store = DatasetStore(tmp_path)
        utterances = store.utterances()
        assert len(utterances) >= committed
        files = {
            p.relative_to(tmp_path).as_posix()
            for p in (tmp_path / "audio").rglob("*")
            if p.is_file()
        }
        assert files == {u.audio_path for u in utterances}
        for utterance in utterances:
            assert decode(store.audio(utterance)).duration == 3.0
        committed = len(utterances)
        store.close()
    assert committed > 5


def test_reconcile_removes_files_without_a_committed_row(tmp_path: Path) -> None:
    store = DatasetStore(tmp_path)
    orphan = tmp_path / "audio" / "s" / "crashed.flac"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"half")
    store.close()
    assert DatasetStore(tmp_path).utterances() == []
    assert not orphan.exists()


def test_a_catalog_from_before_spoken_forms_gets_them_on_opening(tmp_path: Path) -> None:
    store = DatasetStore(tmp_path)
    store.add_speaker(Speaker("s", "Sam", "pl"))
    audio = Audio(np.zeros(16000, dtype=np.float32), 16000)
    words = (Word("Mam", 0.0, 0.3, 0.9), Word("5", 0.3, 0.6, 0.9), Word("lat.", 0.6, 0.9, 0.9))
    draft = Utterance("", "s", "", 0, 0, "Mam 5 lat.", words, "pl", "src", 0.0, 1.0)
    stored = store.add_utterance(audio, draft)
    store.close()
    with sqlite3.connect(tmp_path / "catalog.sqlite") as db:
        db.execute("ALTER TABLE utterances DROP COLUMN spoken_text")
        db.execute("ALTER TABLE utterances DROP COLUMN spoken_words")
    [again] = DatasetStore(tmp_path).utterances()
    assert again.spoken_text == "Mam pięć lat."
    assert again.spoken_words[1] == Word("pięć", 0.3, 0.6, 0.9)
    assert again.text == stored.text and again.words == words
