"""Ingest (files, folders, resume, failures) and live collection from a real-time file source."""

from __future__ import annotations

import shutil
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from lbrxvoicepro.audio.sources import file_source
from lbrxvoicepro.dataset.collect import collect
from lbrxvoicepro.text import wer
from lbrxvoicepro.types import Speaker
from tests.conftest import POLISH_CLIPS, beckett_path, reference
from tests.dataset.conftest import make_builder


def test_ingest_resumes_records_failures_and_never_duplicates(tmp_path, settings, models):
    folder = tmp_path / "recordings"
    folder.mkdir()
    shutil.copy(POLISH_CLIPS[0], folder / "a.wav")
    (folder / "broken.wav").write_bytes(b"RIFF....WAVEfmt ")
    (folder / "empty.mp3").write_bytes(b"")
    builder = make_builder(tmp_path / "ds", settings, models)
    report = builder.ingest([folder], "anna")
    assert report.files_done == 1
    assert sorted(Path(p).name for p, _ in report.failures) == ["broken.wav", "empty.mp3"]
    assert all(reason for _, reason in report.failures)
    utterances = builder.store.utterances()
    assert len(utterances) >= 2
    text = " ".join(u.text for u in sorted(utterances, key=lambda u: u.source_start))
    assert wer(reference(POLISH_CLIPS[0]), text) < 0.3
    for utterance in utterances:
        assert utterance.words and utterance.source.endswith("a.wav")
        assert 1.0 < utterance.metrics["duration"] <= 20.7
        assert all(0 <= w.start <= w.end <= utterance.duration + 0.05 for w in utterance.words)
    again = builder.ingest([folder], "anna")
    assert again.files_skipped == 1 and again.files_done == 0
    source = str((folder / "a.wav").resolve())
    builder.store.mark_source(source, "anna", "interrupted")
    builder.ingest([folder], "anna")
    assert len(builder.store.utterances()) == len(utterances)
    assert builder.store.failed_sources()[0][0].endswith("broken.wav")


def test_collect_from_a_file_in_real_time(tmp_path, settings, models):
    builder = make_builder(tmp_path / "ds", settings, models)
    builder.store.add_speaker(Speaker("en", "English", "en"))
    started = time.monotonic()
    seen = []
    status = collect(
        builder, file_source(beckett_path()), "en", on_status=lambda s: seen.append(replace(s))
    )
    assert time.monotonic() - started >= 9.5
    utterances = builder.store.utterances()
    assert status.accepted + status.rejected == len(utterances) >= 1
    text = " ".join(u.text for u in utterances)
    assert (
        wer("Ever tried. Ever failed. No matter. Try again. Fail again. Fail better.", text) <= 0.2
    )
    assert seen[-1].speech_seconds == status.speech_seconds > 5
    assert any(s.level_dbfs > -40 for s in seen)


def test_ctrl_c_keeps_the_utterance_in_progress(tmp_path, settings, models):
    builder = make_builder(tmp_path / "ds", settings, models)

    def interrupted_source():
        for index, chunk in enumerate(file_source(POLISH_CLIPS[1], realtime=False)):
            if index == 60:
                raise KeyboardInterrupt
            yield chunk

    status = collect(builder, interrupted_source(), "anna")
    assert status.interrupted
    [utterance] = builder.store.utterances()
    assert 4.0 < utterance.duration <= 6.1
    assert utterance.text


def test_collect_stops_after_the_requested_speech(tmp_path, settings, models):
    segmenter = settings.dataset.segmenter.model_copy(update={"max_utterance_s": 5.0})
    dataset = settings.dataset.model_copy(update={"segmenter": segmenter})
    builder = make_builder(
        tmp_path / "ds", settings.model_copy(update={"dataset": dataset}), models
    )
    chunks = list(file_source(POLISH_CLIPS[0], realtime=False))
    status = collect(builder, iter(chunks), "anna", max_speech_seconds=8.0)
    assert 8.0 <= status.speech_seconds < 16.0
    assert all(isinstance(c, np.ndarray) for c in chunks)
