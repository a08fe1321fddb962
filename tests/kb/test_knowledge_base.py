"""Adding, replacing, removing and searching; a failed add changes nothing."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from lbrxvoicepro.config import KbSettings, Settings
from lbrxvoicepro.errors import KnowledgeBaseError
from lbrxvoicepro.kb import HybridRetriever, KnowledgeBase, QueryBatcher
from lbrxvoicepro.kb.embeddings import Embedder, OnnxEmbedder
from lbrxvoicepro.kb.retriever import Hit
from lbrxvoicepro.kb.store import SQLiteStore
from lbrxvoicepro.runtime import ModelManager
from tests.kb.documents import write_pdf

pytestmark = pytest.mark.engines("embedder")


class FailingEmbedder:
    """The real embedder, failing on the call numbered ``fail_on`` (a crash mid-add)."""

    def __init__(self, real: Embedder, fail_on: int) -> None:
        self.real, self.fail_on, self.calls = real, fail_on, 0
        self.name, self.dimensions = real.name, real.dimensions

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        if self.calls == self.fail_on:
            raise RuntimeError("embedding failed half-way")
        return self.real.embed(texts)


class GatedRetriever(HybridRetriever):
    """The real retriever, recording each batch's size; the first batch waits for ``release``
    (a worker kept busy while queries queue up)."""

    def __init__(self, real: HybridRetriever) -> None:
        super().__init__(real.store, real.embedder, real.analyzer)
        self.started, self.release = threading.Event(), threading.Event()
        self.sizes: list[int] = []

    def search_many(self, queries: Sequence[str], k: int = 5) -> list[list[Hit]]:
        self.sizes.append(len(queries))
        self.started.set()
        self.release.wait(30)
        return super().search_many(queries, k)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def snapshot(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return [
            *db.execute("SELECT source, sha256 FROM documents ORDER BY source"),
            *db.execute(
                "SELECT id, text, location, hash, terms, embedding FROM chunks ORDER BY id"
            ),
        ]


def test_add_search_and_cite(kb: KnowledgeBase, tmp_path: Path) -> None:
    pdf = write_pdf(
        tmp_path / "timetable.pdf", ["The first train leaves at six.", "The ferry leaves at noon."]
    )
    report = kb.add(
        [pdf, write(tmp_path / "notes.txt", "Kawiarnia jest zamknięta w poniedziałki.")]
    )
    assert [chunks for _, chunks in report.added] == [2, 1] and not report.failed
    hit = kb.search("When does the ferry leave?", 1)[0]
    assert (Path(hit.chunk.source).name, hit.chunk.location) == ("timetable.pdf", "page 2")
    assert kb.search("Kiedy kawiarnia jest zamknięta?", 1)[0].chunk.text.startswith("Kawiarnia")
    assert kb.search(" \n", 1) == []


def test_bad_files_are_reported_and_the_rest_go_in(kb: KnowledgeBase, tmp_path: Path) -> None:
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.7 broken")
    (tmp_path / "empty.md").write_bytes(b"")
    good = write(tmp_path / "good.txt", "Dobry plik o tramwajach.")
    report = kb.add([tmp_path / "broken.pdf", tmp_path / "empty.md", good])
    assert [Path(s).name for s, _ in report.failed] == ["broken.pdf", "empty.md"]
    assert [Path(s).name for s, _ in report.added] == ["good.txt"]
    assert [Path(d.source).name for d in kb.documents()] == ["good.txt"]


def test_unchanged_duplicate_and_edited_files(kb: KnowledgeBase, tmp_path: Path) -> None:
    first = write(tmp_path / "a.txt", "Sklep jest otwarty do osiemnastej. Parking jest płatny.")
    kb.add([first])
    copy = write(tmp_path / "copy.txt", first.read_text(encoding="utf-8"))
    report = kb.add([first, copy])
    assert [reason for _, reason in report.skipped] == [
        "unchanged",
        f"same content as {first.resolve()}",
    ]
    write(first, "Sklep jest otwarty do dwudziestej. Parking jest płatny.")
    report = kb.add([first])
    assert report.added == [(str(first.resolve()), 1)]
    assert len(kb.documents()) == 1
    assert "dwudziestej" in kb.search("do której otwarty jest sklep", 1)[0].chunk.text


def test_passages_already_present_are_not_stored_twice(kb: KnowledgeBase, tmp_path: Path) -> None:
    kb.add([write(tmp_path / "a.txt", "Wspólny akapit o rowerach.\n\nTylko w pierwszym.")])
    report = kb.add([write(tmp_path / "b.txt", "Wspólny akapit o rowerach.\n\nTylko w drugim.")])
    assert report.added == [(str((tmp_path / "b.txt").resolve()), 1)]


def test_a_failed_add_leaves_the_knowledge_base_as_it_was(
    kb_settings: KbSettings, embedder: Embedder, tmp_path: Path
) -> None:
    path = kb_settings.data_dir / "atomic.sqlite"
    kb = KnowledgeBase("atomic", SQLiteStore(path), embedder, kb_settings)
    original = write(tmp_path / "a.txt", "Pierwsza wersja dokumentu o autobusach.")
    kb.add([original])
    before = snapshot(path)
    failing = KnowledgeBase("atomic", SQLiteStore(path), FailingEmbedder(embedder, 1), kb_settings)
    write(original, "Druga wersja dokumentu o autobusach, zupełnie inna.")
    with pytest.raises(RuntimeError, match="half-way"):
        failing.add([original, write(tmp_path / "b.txt", "Nowy dokument.")])
    assert snapshot(path) == before
    assert "Pierwsza wersja" in kb.search("autobusy", 1)[0].chunk.text


def test_a_store_error_mid_document_rolls_back(kb: KnowledgeBase, tmp_path: Path) -> None:
    kb.add([write(tmp_path / "a.txt", "Stary tekst o pociągach.")])
    before = snapshot(kb.store.path)  # type: ignore[attr-defined]
    chunks = [kb.analyzer.terms("x")]  # wrong length on purpose: chunks and vectors disagree
    from lbrxvoicepro.kb.store import NewChunk

    with pytest.raises(ValueError):
        kb.store.put_document(
            str((tmp_path / "a.txt").resolve()),
            "new",
            [NewChunk("nowy", "line 1", "h1", chunks[0]), NewChunk("dwa", "line 2", "h2", [])],
            np.zeros((1, kb.embedder.dimensions), dtype=np.float32),
        )
    assert snapshot(kb.store.path) == before  # type: ignore[attr-defined]


def test_remove_by_listed_source_or_by_path(kb: KnowledgeBase, tmp_path: Path) -> None:
    a = write(tmp_path / "a.txt", "Tekst o jeziorach.")
    b = write(tmp_path / "b.txt", "Tekst o górach.")
    kb.add([a, b])
    assert kb.remove([str(a.resolve()), str(b), "missing.txt"]) == [
        str(a.resolve()),
        str(b.resolve()),
    ]
    assert kb.documents() == [] and kb.search("jeziora") == []


def test_remove_by_the_file_name_answers_cite_when_it_is_unique(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    unique = write(tmp_path / "kontakt.html", "<p>Biuro jest czynne do 16:00.</p>")
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
    first = write(tmp_path / "one" / "cennik.txt", "Bilet kosztuje 12 zł.")
    second = write(tmp_path / "two" / "cennik.txt", "Karnet kosztuje 90 zł.")
    kb.add([unique, first, second])
    assert kb.remove(["kontakt.html"]) == [str(unique.resolve())]
    assert kb.remove(["cennik.txt"]) == []  # two documents have that name: neither is guessed
    assert len(kb.documents()) == 2


def test_another_embedding_model_is_refused(kb: KnowledgeBase, kb_settings: KbSettings) -> None:
    class Other:
        name, dimensions = "other-model", 8

        def embed(self, texts: Sequence[str]) -> np.ndarray:
            return np.zeros((len(texts), 8), dtype=np.float32)

    with pytest.raises(KnowledgeBaseError, match="built with embedding_model"):
        KnowledgeBase("test", kb.store, Other(), kb_settings)


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_batched_queries_match_single_queries(
    precision: str, models: ModelManager, kb_settings: KbSettings, tmp_path: Path
) -> None:
    """fp32 ranks identically in any batch; int8 quantises activations per batch, so near-ties
    may swap (these documents differ by one number), but each best hit stays in the other's top
    three: no query gets another's results."""
    embedder = OnnxEmbedder(
        models.catalog.resolve("all-MiniLM-L6-v2", "embedding"),
        models.settings.cache_dir,
        precision,  # type: ignore[arg-type]
    )
    store = SQLiteStore(kb_settings.data_dir / f"{precision}.sqlite")
    kb = KnowledgeBase(precision, store, embedder, kb_settings)
    kb.add(
        [write(tmp_path / f"{n}.txt", f"Dokument {n} mówi o mieście {n * 7}.") for n in range(30)]
    )
    queries = [f"miasto {n * 7}" for n in range(30)]
    batcher = QueryBatcher(kb.retriever, window_ms=5, max_batch=8, workers=2)
    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            batched = list(pool.map(lambda q: batcher.search(q, 3), queries))
    finally:
        batcher.close()
    single = [kb.retriever.search(q, 3) for q in queries]
    batched_ids = [[h.chunk.id for h in hits] for hits in batched]
    single_ids = [[h.chunk.id for h in hits] for hits in single]
    if precision == "fp32":
        assert batched_ids == single_ids
    for one, other in ((batched_ids, single_ids), (single_ids, batched_ids)):
        assert all(best[0] in top for best, top in zip(one, other, strict=True))


def test_without_a_window_a_free_worker_still_takes_every_queued_query(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    kb.add([write(tmp_path / "a.txt", "Zamek stoi na wzgórzu nad Wisłą w Krakowie.")])
    retriever = GatedRetriever(kb.retriever)
    batcher = QueryBatcher(retriever, window_ms=0, max_batch=8, workers=1)
    first = batcher.submit("zamek", 1)
    assert retriever.started.wait(30)
    queued = [batcher.submit("Kraków", 1) for _ in range(20)]
    retriever.release.set()
    batcher.close()
    assert retriever.sizes == [1, 8, 8, 4]
    assert all("Krakowie" in future.result()[0].chunk.text for future in [first, *queued])


def test_unloading_closes_a_knowledge_base_after_answering_its_searches(
    kb_cli_settings: Settings, tmp_path: Path
) -> None:
    models = ModelManager(kb_cli_settings)
    kb = models.knowledge_base("closing")
    kb.add([write(tmp_path / "a.txt", "Zamek stoi na wzgórzu nad Wisłą w Krakowie.")])
    others = set(threading.enumerate())
    pending = [kb.batcher.submit("Kraków zamek", 3) for _ in range(40)]
    workers = [t for t in threading.enumerate() if t not in others]
    models.unload()
    assert all(future.done() for future in pending)
    assert all("Krakowie" in future.result()[0].chunk.text for future in pending)
    assert workers and not any(worker.is_alive() for worker in workers)
    reopened = models.knowledge_base("closing")
    assert reopened is not kb
    assert "Krakowie" in reopened.search("zamek")[0].chunk.text
    models.unload()


def test_a_reranker_reorders_the_fused_hits(kb: KnowledgeBase, tmp_path: Path) -> None:
    kb.add(
        [write(tmp_path / "a.txt", "Krótki tekst.\n\nDłuższy tekst o czymś innym, ale też tekst.")]
    )
    longest_first = HybridRetriever(
        kb.store,
        kb.embedder,
        kb.analyzer,
        reranker=lambda query, hits: sorted(hits, key=lambda h: -len(h.chunk.text)),
    )
    assert longest_first.search("tekst", 1)[0].chunk.text.startswith("Dłuższy")
