"""Validation: metrics per utterance, thresholds, duplicates, the JSON and HTML report."""

from __future__ import annotations

import json
import shutil

import numpy as np

from lbrxvoicepro.dataset.report import write_report
from lbrxvoicepro.dataset.validate import validate
from lbrxvoicepro.types import Audio, Utterance
from tests.conftest import POLISH_CLIPS
from tests.dataset.conftest import make_builder


def test_validate_flags_duplicates_noise_and_short_clips(tmp_path, settings, models) -> None:
    builder = make_builder(tmp_path / "ds", settings, models)
    copy = tmp_path / "copy.wav"
    shutil.copy(POLISH_CLIPS[3], copy)
    builder.ingest([POLISH_CLIPS[3], copy], "anna")
    rng = np.random.default_rng(0)
    noise = Audio((0.5 * rng.standard_normal(16000 * 3)).astype(np.float32), 16000)
    draft = Utterance("", "anna", "", 0, 0, "szum", (), "pl", "noise", 0, 3, -2.0, 0.9, 1.0)
    builder.store.add_utterance(noise, draft)
    short = Audio(np.zeros(4000, dtype=np.float32), 16000)
    builder.store.add_utterance(short, Utterance("", "anna", "", 0, 0, "", (), "pl", "x", 0, 0.25))

    report = validate(builder.store, settings.dataset.validation)
    by_source = {}
    for utterance in builder.store.utterances():
        by_source.setdefault(utterance.source.rsplit("/", 1)[-1], []).append(utterance)
    assert all(u.status == "accepted" for u in by_source[POLISH_CLIPS[3].name])
    assert all("duplicate audio" in " ".join(u.reasons) for u in by_source["copy.wav"])
    [noisy] = by_source["noise"]
    assert noisy.status == "rejected"
    assert any(r.startswith("avg_logprob") for r in noisy.reasons)
    [silent] = by_source["x"]
    assert "no words recognised" in silent.reasons
    assert any(r.startswith("duration") for r in silent.reasons)
    assert report.rejected == report.total - report.accepted >= 3
    assert report.reasons.get("duplicate audio", 0) >= 1, report.reasons
    assert set(report.metric_names) >= {
        "snr_db",
        "loudness_lufs",
        "clipping_ratio",
        "speaking_rate",
    }

    json_path, html_path = write_report(report, tmp_path)
    written = json.loads(json_path.read_text())
    assert written["total"] == report.total == len(written["utterances"])
    ids = {u.id for u in builder.store.utterances()}
    assert {row["id"] for row in written["utterances"]} == ids  # each row says whose it is
    assert all(row["metrics"] or row["reasons"] for row in written["utterances"])
    assert written["thresholds"]["snr_db"] == {"min": settings.dataset.validation.min_snr_db}
    page = html_path.read_text()
    assert page.count("<svg") == len(report.metric_names)
    assert "duplicate audio" in page and page.count("<tr class=") == report.total


def test_thresholds_come_from_settings(tmp_path, settings, models) -> None:
    builder = make_builder(tmp_path / "ds", settings, models)
    builder.ingest([POLISH_CLIPS[4]], "anna")
    strict = settings.dataset.validation.model_copy(update={"min_snr_db": 200.0})
    report = validate(builder.store, strict)
    assert report.accepted == 0 and report.reasons == {"snr_db": report.total}
