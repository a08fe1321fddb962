"""Hybrid retrieval: BM25 over stemmed terms and dense embeddings, fused by reciprocal rank.

BM25 carries Polish names and inflected forms that an English-centric embedding model misses;
embeddings carry paraphrase that shares no words with the passage. Reciprocal rank fusion needs
no score calibration between the two. Queries arriving together (a server under load) are
micro-batched so that one embedding call serves them all.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass

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


def reciprocal_rank_fusion(rankings: Sequence[Ranked], k: int = 60) -> list[tuple[int, float]]:
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, (chunk_id, _) in enumerate(ranking):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + 1.0 / (k + rank + 1)
    return sorted(scores.items(), key=lambda item: -item[1])


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
        fused_lists = []
        depth = self.candidates if self.reranker else k
        for lexical_ranking, dense_ranking in zip(lexical, dense, strict=True):
            fused = reciprocal_rank_fusion([lexical_ranking, dense_ranking], self.rrf_k)
            fused_lists.append((fused[:depth], _ranks(lexical_ranking), _ranks(dense_ranking)))
        chunks = self.store.chunks(list({cid for fused, _, _ in fused_lists for cid, _ in fused}))
        results = []
        for query, (fused, lexical_ranks, dense_ranks) in zip(queries, fused_lists, strict=True):
            hits = [
                Hit(chunks[cid], score, lexical_ranks.get(cid), dense_ranks.get(cid))
                for cid, score in fused
                if cid in chunks
            ]
            results.append((self.reranker(query, hits) if self.reranker else hits)[:k])
        return results


def _ranks(ranking: Ranked) -> dict[int, int]:
    return {chunk_id: rank for rank, (chunk_id, _) in enumerate(ranking, start=1)}


class QueryBatcher:
    """Serves concurrent ``search`` calls from one worker thread, in micro-batches.

    The first query of a batch waits at most ``window_ms`` for company; a batch never holds more
    than ``max_batch`` queries.
    """

    def __init__(self, retriever: HybridRetriever, window_ms: float = 2.0, max_batch: int = 64):
        self.retriever = retriever
        self.window = window_ms / 1000
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[tuple[str, int, Future[list[Hit]]] | None] = (
            queue.SimpleQueue()
        )
        self._worker = threading.Thread(target=self._run, name="kb-query-batcher", daemon=True)
        self._worker.start()

    def submit(self, query: str, k: int = 5) -> Future[list[Hit]]:
        future: Future[list[Hit]] = Future()
        self._queue.put((query, k, future))
        return future

    def search(self, query: str, k: int = 5) -> list[Hit]:
        return self.submit(query, k).result()

    async def asearch(self, query: str, k: int = 5) -> list[Hit]:
        return await asyncio.wrap_future(self.submit(query, k))

    def close(self) -> None:
        self._queue.put(None)
        self._worker.join()

    def _run(self) -> None:
        while (first := self._queue.get()) is not None:
            batch = [first]
            deadline = time.perf_counter() + self.window
            closing = False
            while len(batch) < self.max_batch and (remaining := deadline - time.perf_counter()) > 0:
                try:
                    item = self._queue.get(timeout=remaining)
                except queue.Empty:
                    break
                if item is None:
                    closing = True
                    break
                batch.append(item)
            self._serve(batch)
            if closing:
                return

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
