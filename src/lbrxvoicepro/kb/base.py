"""A named knowledge base: add documents, remove them, list them, search them.

Adding is per document and all-or-nothing: a document is read, chunked and embedded first, then
written in one store transaction that also replaces an older version of the same source. A bad
file is reported with its reason and the rest go on.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lbrxvoicepro.config import KbSettings
from lbrxvoicepro.errors import DocumentError, KnowledgeBaseError
from lbrxvoicepro.kb.analyzer import Analyzer, fold
from lbrxvoicepro.kb.chunking import chunk_sections
from lbrxvoicepro.kb.documents import SUFFIXES, read_document
from lbrxvoicepro.kb.embeddings import Embedder
from lbrxvoicepro.kb.retriever import Hit, HybridRetriever, QueryBatcher, Reranker
from lbrxvoicepro.kb.store import DocumentInfo, KnowledgeStore, NewChunk, SQLiteStore

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")
"""Knowledge base and dataset names: no path separators, no leading dot, no trailing newline."""


@dataclass
class AddReport:
    added: list[tuple[str, int]] = field(default_factory=list)
    """Sources added (or replaced), with their chunk counts."""
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """Sources left out on purpose (unchanged, duplicate content), with the reason."""
    failed: list[tuple[str, str]] = field(default_factory=list)
    """Sources that could not be used, with the reason."""


class KnowledgeBase:
    def __init__(
        self,
        name: str,
        store: KnowledgeStore,
        embedder: Embedder,
        settings: KbSettings,
        reranker: Reranker | None = None,
    ) -> None:
        self.name = name
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.analyzer = Analyzer(settings.language)
        self._check_compatible()
        self.retriever = HybridRetriever(
            store, embedder, self.analyzer, settings.candidates, settings.rrf_k, reranker
        )
        self._batcher: QueryBatcher | None = None
        self._batcher_lock = threading.Lock()

    def _check_compatible(self) -> None:
        wanted = {
            "embedding_model": self.embedder.name,
            "dimensions": str(self.embedder.dimensions),
            "language": self.analyzer.language,
        }
        meta = self.store.meta()
        if not {key for key in wanted if key in meta}:
            self.store.set_meta(wanted)
            return
        for key, value in wanted.items():
            if meta.get(key) != value:
                raise KnowledgeBaseError(
                    f"knowledge base {self.name!r} was built with {key} = {meta.get(key)!r}, "
                    f"not {value!r}: use the same setting, or remove it and add the documents again"
                )

    def add(
        self, paths: Iterable[Path], progress: Callable[[Path], None] | None = None
    ) -> AddReport:
        report = AddReport()
        max_bytes = int(self.settings.max_file_mb * 2**20)
        for path in paths:
            source = str(path.resolve())
            try:
                self._add_one(path, source, max_bytes, report)
            except DocumentError as error:
                report.failed.append((source, error.reason))
            if progress is not None:
                progress(path)
        return report

    def _add_one(self, path: Path, source: str, max_bytes: int, report: AddReport) -> None:
        sections = read_document(path, max_bytes)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        same = self.store.source_with_content(digest)
        if same is not None:
            reason = "unchanged" if same == source else f"same content as {same}"
            report.skipped.append((source, reason))
            return
        chunks, seen = [], set()
        for chunk in chunk_sections(
            sections, self.settings.chunk_chars, self.settings.overlap_chars
        ):
            key = hashlib.sha1(" ".join(fold(chunk.text).split()).encode()).hexdigest()
            if key not in seen:
                seen.add(key)
                chunks.append(
                    NewChunk(chunk.text, chunk.location, key, self.analyzer.terms(chunk.text))
                )
        known = self.store.known_hashes([c.hash for c in chunks], ignore_source=source)
        chunks = [c for c in chunks if c.hash not in known]
        if not chunks:
            report.skipped.append((source, "every passage is already in the knowledge base"))
            return
        vectors = self.embedder.embed([c.text for c in chunks])
        self.store.put_document(source, digest, chunks, vectors)
        report.added.append((source, len(chunks)))

    def remove(self, sources: Sequence[str]) -> list[str]:
        """Remove documents by source: as listed, a path that resolves to it, or its file name
        as answers cite it when no other document has that name."""
        known = {d.source for d in self.store.documents()}
        by_name: dict[str, list[str]] = {}
        for source in known:
            by_name.setdefault(Path(source).name, []).append(source)
        resolved = []
        for source in sources:
            if source in known:
                resolved.append(source)
            elif len(by_name.get(source, [])) == 1:
                resolved.append(by_name[source][0])
            else:
                resolved.append(str(Path(source).expanduser().resolve()))
        return self.store.remove(resolved)

    def documents(self) -> list[DocumentInfo]:
        return self.store.documents()

    def search(self, query: str, k: int | None = None) -> list[Hit]:
        """Best ``k`` hits (none for a blank query); searches from concurrent threads share
        embedding batches."""
        if not query.strip():
            return []
        return self.batcher.search(query, k or self.settings.top_k)

    def close(self) -> None:
        """Answers the searches already submitted, stops the search workers and closes the
        store; the model manager calls it when it drops the knowledge base."""
        with self._batcher_lock:
            if self._batcher is not None:
                self._batcher.close()
                self._batcher = None
        self.store.close()

    @property
    def batcher(self) -> QueryBatcher:
        with self._batcher_lock:
            if self._batcher is None:
                self._batcher = QueryBatcher(
                    self.retriever,
                    self.settings.batch_window_ms,
                    self.settings.max_batch,
                    self.settings.search_workers,
                )
            return self._batcher


def expand_paths(paths: Iterable[Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files named, and supported files under directories named; plus what does not exist."""
    files, missing = [], []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in SUFFIXES))
        elif path.exists():
            files.append(path)
        else:
            missing.append((str(path), "no such file or directory"))
    return files, missing


def open_store(name: str, settings: KbSettings) -> KnowledgeStore:
    if not NAME_PATTERN.match(name):
        raise KnowledgeBaseError(
            f"{name!r}: a knowledge base name is letters, digits, '_', '.', '-' (up to 64)"
        )
    if settings.store == "postgres":
        from lbrxvoicepro.kb.pgstore import PostgresStore

        if not settings.postgres_url:
            raise KnowledgeBaseError("kb.store = 'postgres' needs kb.postgres_url")
        return PostgresStore(settings.postgres_url, name)
    return SQLiteStore(settings.data_dir / f"{name}.sqlite")


def knowledge_base_names(settings: KbSettings) -> list[str]:
    if settings.store == "postgres":
        from lbrxvoicepro.kb.pgstore import PostgresStore

        return PostgresStore.names(settings.postgres_url)
    return sorted(p.stem for p in settings.data_dir.glob("*.sqlite"))
