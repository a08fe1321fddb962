"""Hybrid retrieval: BM25 over stemmed terms and dense embeddings, fused by reciprocal rank.

BM25 carries Polish names and inflected forms that an English-centric embedding model misses;
embeddings carry paraphrase that shares no words with the passage. Reciprocal rank fusion needs
no score calibration between the two. Queries arriving together (a server under load) are
micro-batched so that one embedding call serves them all.
"""

from __future__ import annotations

import asyncio
import heapq
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from lbrxvoicepro.kb.analyzer import Analyzer
from lbrxvoicepro.kb.embeddings import Embedder
from lbrxvoicepro.kb.store import KnowledgeStore, Ranked, StoredChunk


@dataclass(frozen=True)
class Hit:
    chunk: StoredChunk
    score: float
    """Fused reciprocal-rank score (higher is better)."""
    lexical_rank: int | None
    dense_rank: int | None


Reranker = Callable[[str, list[Hit]], list[Hit]]
"""Reorders (and may cut) the fused hits for a query, e.g. with a cross-encoder."""


Fused = list[tuple[int, float, int | None, int | None]]
"""(chunk id, fused score, lexical rank, dense rank), best first; ranks count from 1."""


def reciprocal_rank_fusion(lexical: Ranked, dense: Ranked, depth: int, k: int = 60) -> Fused:
    """The best ``depth`` chunks by the sum of 1 / (k + rank) over both rankings."""
    entries: dict[int, list[Any]] = {}
    for rank, (chunk_id, _) in enumerate(lexical, start=1):
        entries[chunk_id] = [1.0 / (k + rank), rank, None]
    for rank, (chunk_id, _) in enumerate(dense, start=1):
        if (entry := entries.get(chunk_id)) is None:
            entries[chunk_id] = [1.0 / (k + rank), None, rank]
        else:
            entry[0] += 1.0 / (k + rank)
            entry[2] = rank
    best = heapq.nlargest(depth, entries.items(), key=lambda item: item[1][0])
    return [(chunk_id, score, lexical, dense) for chunk_id, (score, lexical, dense) in best]


class HybridRetriever:
    def __init__(
        self,
        store: KnowledgeStore,
        embedder: Embedder,
        analyzer: Analyzer,
        candidates: int = 50,
        rrf_k: int = 60,
        reranker: Reranker | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.analyzer = analyzer
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.reranker = reranker

    def search(self, query: str, k: int = 5) -> list[Hit]:
        return self.search_many([query], k)[0]

    def search_many(self, queries: Sequence[str], k: int = 5) -> list[list[Hit]]:
        """Best ``k`` hits for each query; one embedding batch for all of them."""
        dense = self.store.dense(self.embedder.embed(queries), self.candidates)
        lexical = self.store.lexical([self.analyzer.terms(q) for q in queries], self.candidates)
        depth = self.candidates if self.reranker else k
        fused_lists = [
            reciprocal_rank_fusion(lexical_ranking, dense_ranking, depth, self.rrf_k)
            for lexical_ranking, dense_ranking in zip(lexical, dense, strict=True)
        ]
        chunks = self.store.chunks(list({entry[0] for fused in fused_lists for entry in fused}))
        results = []
        for query, fused in zip(queries, fused_lists, strict=True):
            hits = [
                Hit(chunks[chunk_id], score, lexical_rank, dense_rank)
                for chunk_id, score, lexical_rank, dense_rank in fused
                if chunk_id in chunks
            ]
            results.append((self.reranker(query, hits) if self.reranker else hits)[:k])
        return results


class QueryBatcher:
    """Serves concurrent ``search`` calls in micro-batches, from ``workers`` threads (0: one per
    core).

    A free worker takes every query waiting, up to ``max_batch``: under load the queue fills
    while the workers are busy, so batches grow with the load and no core idles waiting for
    company. ``window_ms`` makes the first query of a batch wait that long for more (fuller
    batches at moderate load, at the cost of latency). One worker gathers while the others serve.
    """

    def __init__(
        self,
        retriever: HybridRetriever,
        window_ms: float = 0.0,
        max_batch: int = 32,
        workers: int = 0,
    ):
        self.retriever = retriever
        self.window = window_ms / 1000
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[tuple[str, int, Future[list[Hit]]] | None] = (
            queue.SimpleQueue()
        )
        self._gathering = threading.Lock()
        self._closed = threading.Event()
        self._workers = [
            threading.Thread(target=self._run, name=f"kb-query-batcher-{n}", daemon=True)
            for n in range(workers or os.cpu_count() or 1)
        ]
        for worker in self._workers:
            worker.start()

    def submit(self, query: str, k: int = 5) -> Future[list[Hit]]:
        future: Future[list[Hit]] = Future()
        self._queue.put((query, k, future))
        return future

    def search(self, query: str, k: int = 5) -> list[Hit]:
        return self.submit(query, k).result()

    async def asearch(self, query: str, k: int = 5) -> list[Hit]:
        return await asyncio.wrap_future(self.submit(query, k))

    def close(self) -> None:
        """Serves what was submitted, then stops the workers."""
        self._queue.put(None)
        for worker in self._workers:
            worker.join()

    def _run(self) -> None:
        while (batch := self._gather()) is not None:
            self._serve(batch)

    def _gather(self) -> list[tuple[str, int, Future[list[Hit]]]] | None:
        with self._gathering:
            if self._closed.is_set() or (first := self._queue.get()) is None:
                self._closed.set()
                return None
            batch = [first]
            deadline = time.perf_counter() + self.window
            while len(batch) < self.max_batch:
                remaining = deadline - time.perf_counter()
                try:
                    item = self._queue.get(block=remaining > 0, timeout=remaining)
                except queue.Empty:
                    break
                if item is None:
                    self._closed.set()
                    break
                batch.append(item)
            return batch

    def _serve(self, batch: list[tuple[str, int, Future[list[Hit]]]]) -> None:
        depth = max(k for _, k, _ in batch)
        try:
            results = self.retriever.search_many([query for query, _, _ in batch], depth)
        except Exception as error:
            for _, _, future in batch:
                future.set_exception(error)
            return
        for (_, k, future), hits in zip(batch, results, strict=True):
            future.set_result(hits[:k])
