"""Ingest shows progress within a batch of files, not only when its files are done."""

from __future__ import annotations

import pytest

from lbrxvoicepro.audio import decode
from lbrxvoicepro.dataset.builder import LocalRecognition
from lbrxvoicepro.runtime import ModelManager
from tests.conftest import POLISH_CLIPS
from tests.dataset.conftest import make_builder


def test_seconds_transcribed_are_reported_as_the_decoder_goes(tmp_path, settings) -> None:
    """Two files decoded together (one clip per decoder batch): the audio transcribed grows
    before the first file is stored, and reaches the batch's whole length."""
    one_clip = settings.model_copy(
        update={"asr": settings.asr.model_copy(update={"batch_size": 1})}
    )
    builder = make_builder(tmp_path, one_clip, ModelManager(one_clip))
    files = POLISH_CLIPS[:2]
    heard: list[tuple[float, float]] = []
    stored_after: list[int] = []
    recognition = LocalRecognition(
        builder, progress=lambda done, total: heard.append((done, total))
    )
    report = builder.ingest(
        files, "anna", lambda _: stored_after.append(len(heard)), recognition=recognition
    )
    assert report.files_done == 2 and len(stored_after) == 2
    lengths = [decode(path).duration for path in files]
    assert [total for _, total in heard] == [pytest.approx(sum(lengths), abs=0.01)] * len(heard)
    done = [seconds for seconds, _ in heard]
    assert done[0] == 0 and done == sorted(done)
    before_first_file = done[: stored_after[0]]
    assert any(0 < seconds <= lengths[0] + 0.01 for seconds in before_first_file), heard
    assert done[-1] > 0.9 * sum(lengths)
