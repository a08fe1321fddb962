"""Finding 6: opening a dataset (every GET /v1/datasets/{name} does) deleted a running
ingest's half-written file, and that ingest then failed and stored nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lbrxvoicepro.dataset.store import DatasetStore
from lbrxvoicepro.types import Audio, Speaker, Utterance


def test_a_store_opened_beside_a_writer_leaves_its_files_alone(tmp_path: Path) -> None:
    writer = DatasetStore(tmp_path)
    in_progress = tmp_path / "audio" / "anna" / ".3f2a.flac.k2j4"
    in_progress.parent.mkdir(parents=True)
    in_progress.write_bytes(b"half of an utterance")
    reader = DatasetStore(tmp_path)  # what a GET request does while the ingest runs
    assert in_progress.exists()
    reader.close()
    writer.close()
    DatasetStore(tmp_path).close()  # alone now: what a crash left behind is tidied up
    assert not in_progress.exists()


def test_a_file_whose_ingest_was_cut_short_is_hidden_until_redone(tmp_path: Path) -> None:
    """Finding 16: after kill -9 mid-ingest, half a recording stayed in stats and exports."""
    store = DatasetStore(tmp_path)
    store.add_speaker(Speaker("anna", "Anna", "pl"))
    store.mark_source("/nagrania/a.wav", "anna", "ingesting")
    draft = Utterance("", "anna", "", 0, 0, "ala", (), "pl", "/nagrania/a.wav", 0.0, 1.0)
    store.add_utterance(Audio(np.zeros(16000, np.float32), 16000), draft)
    store._db.close()  # the process dies here: nothing else runs
    store._lock.close()
    reopened = DatasetStore(tmp_path)
    assert reopened.utterances() == [] and reopened.stats()[0].rejected == 0
    assert reopened.source_status("/nagrania/a.wav") == "interrupted"
    assert not list((tmp_path / "audio").rglob("*.flac"))
