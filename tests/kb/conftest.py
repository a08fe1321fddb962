"""Knowledge-base fixtures: the real embedding model, shared; a fresh store per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lbrxvoicepro.config import KbSettings, Settings
from lbrxvoicepro.kb import KnowledgeBase
from lbrxvoicepro.kb.embeddings import Embedder
from lbrxvoicepro.kb.store import SQLiteStore
from lbrxvoicepro.runtime import ModelManager


@pytest.fixture(scope="session")
def embedder(models: ModelManager) -> Embedder:
    return models.embedder()


@pytest.fixture
def kb_settings(tmp_path: Path) -> KbSettings:
    return KbSettings(data_dir=tmp_path / "kb")


@pytest.fixture
def kb(kb_settings: KbSettings, embedder: Embedder) -> Iterator[KnowledgeBase]:
    knowledge_base = KnowledgeBase(
        "test", SQLiteStore(kb_settings.data_dir / "test.sqlite"), embedder, kb_settings
    )
    yield knowledge_base
    knowledge_base.close()


@pytest.fixture
def kb_cli_settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"kb": KbSettings(data_dir=tmp_path / "kb")})
