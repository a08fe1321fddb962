"""A real dataset built once per session from real Polish speech, shared by the export tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from lbrxvoicepro.dataset.builder import DatasetBuilder
from lbrxvoicepro.dataset.store import DatasetStore
from lbrxvoicepro.types import Speaker
from tests.conftest import POLISH_CLIPS


def make_builder(root: Path, settings, models) -> DatasetBuilder:
    store = DatasetStore(root)
    store.add_speaker(Speaker("anna", "Anna", "pl", True, "2026-11-24T10:00:00", "test"))
    store.add_speaker(Speaker("piotr", "Piotr", "pl"))
    return DatasetBuilder(store, models.transcriber(), models.vad(), settings)


@pytest.fixture(scope="session")
def built_dataset(tmp_path_factory, settings, models) -> DatasetStore:
    builder = make_builder(tmp_path_factory.mktemp("dataset"), settings, models)
    builder.ingest(POLISH_CLIPS[:2], "anna")
    builder.ingest(POLISH_CLIPS[2:3], "piotr")
    return builder.store
