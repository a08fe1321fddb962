"""Retrieval benchmark: latency, sustained queries per second and recall@5 against ChromaDB.

Corpus: ``bench/rag_corpus.py`` (10,000 generated Polish and English passages, one labelled
query per passage). lbrxvoicepro: a knowledge base built with ``KnowledgeBase.add`` (SQLite
store, BM25 + all-MiniLM-L6-v2 int8 ONNX, reciprocal rank fusion), queried through the
micro-batching ``QueryBatcher``. Baseline, same run, same corpus: ChromaDB (the store the
original prototype used) with the same embedding model through sentence-transformers. Query
embedding is included in every latency.

Sustained load is open-loop: queries are submitted at fixed rates (``--rates``, default 250,
500, 1000 and 1500 per second) whatever the answers' speed, and each latency runs from its
scheduled send time. Every query of a run is a different question: nothing is served from a
cache. On a shared host one run's p99 under heavy load swings with the neighbours' load:
``--repeats N`` measures each rate N times, prints every run and the median p99 of each rate.
The load runs twice (``--processes``, default ``1,<cores>``): against the knowledge base in
this process, with one search worker per core, and split over one process per core, each with
one worker, as a load balancer over that many servers on this machine would split it (see
``bench/rag_load.py``).

    .venv/bin/python bench/rag.py [--size 10000] [--rates 250,500,1000,1500] [--seconds 10]
                                  [--repeats 1] [--processes 1,2] [--skip-chroma]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from rag_corpus import generate
from rag_load import ProcessSplit, in_process

from lbrxvoicepro.config import Settings
from lbrxvoicepro.runtime import ModelManager


def percentiles(values: list[float]) -> tuple[float, float]:
    array = np.array(values) * 1000
    return float(np.percentile(array, 50)), float(np.percentile(array, 99))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument(
        "--rates", default="250,500,1000,1500", help="offered loads to measure, queries per second"
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--repeats", type=int, default=1, help="runs of each rate (every run is printed)"
    )
    parser.add_argument("--recall-queries", type=int, default=2000)
    parser.add_argument("--skip-chroma", action="store_true", help="measure lbrxvoicepro only")
    parser.add_argument(
        "--processes",
        default=f"1,{os.cpu_count() or 1}",
        help="setups measured under load: 1 is the knowledge base in this process with one "
        "search worker per core; N > 1 splits the load over N processes, each with its share of "
        "the cores, as a load balancer over N servers on this machine would",
    )
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    try:
        args.processes = sorted({int(count) for count in args.processes.split(",")})
    except ValueError:
        parser.error(f"--processes {args.processes!r}: expected counts such as 1,2")
    if args.processes[0] < 1:
        parser.error("--processes: every count must be at least 1")
    with tempfile.TemporaryDirectory(prefix="lbrx-rag-") as work:
        measure(args, Path(work))


def measure(args: argparse.Namespace, work: Path) -> None:
    """Index the corpus in ``work`` (removed afterwards), then time lbrxvoicepro and ChromaDB."""
    corpus = generate(args.size)
    settings = Settings(cache_dir=Path(".cache"), kb={"data_dir": work / "kb"})  # type: ignore[arg-type]
    models = ModelManager(settings, freeze_after_load=True)  # as the server runs it
    kb = models.knowledge_base("bench")
    source = work / "corpus.txt"
    source.write_text("\n\n".join(corpus.passages), encoding="utf-8")
    started = time.perf_counter()
    report = kb.add([source])
    chunks = report.added[0][1]
    print(f"lbrx: {chunks} chunks indexed in {time.perf_counter() - started:.1f} s")
    texts = {text: i for i, text in enumerate(corpus.passages)}

    sample = corpus.queries[: args.recall_queries]
    lbrx_hits = kb.retriever.search_many([q for q, _ in sample], 5)
    lbrx_recall = statistics.mean(
        any(texts.get(hit.chunk.text) == answer for hit in hits)
        for hits, (_, answer) in zip(lbrx_hits, sample, strict=True)
    )
    queries = [q for q, _ in corpus.queries]
    single_lbrx = timed(lambda query: kb.search(query, 5), queries[:500])

    rates = [float(r) for r in args.rates.split(",")]
    loaded = []
    for count in args.processes:
        split = ProcessSplit(count, settings, "bench", queries) if count > 1 else None
        run = split.run if split else in_process(kb.batcher.submit, queries)
        loaded += [
            (count, rate, run(rate, args.seconds)) for rate in rates for _ in range(args.repeats)
        ]
        if split:
            split.close()

    s50, s99 = percentiles(single_lbrx)
    print(f"recall@5 ({len(sample)} queries): lbrx {lbrx_recall:.3f}")
    print(f"single query p50/p99 ms: lbrx {s50:.1f}/{s99:.1f}")
    p99s: dict[tuple[int, float], list[float]] = {}
    for count, rate, load in loaded:
        p50, p99 = percentiles(load.latencies)
        p99s.setdefault((count, rate), []).append(p99)
        print(
            f"lbrx under {rate:.0f} q/s offered for {args.seconds:.0f} s{setup(count)}: "
            f"{load.served:.0f} q/s served, p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
            f"CPU {load.busy:.0%} of {os.cpu_count()} cores"
        )
    for (count, rate), values in p99s.items():
        if len(values) > 1:
            print(
                f"lbrx under {rate:.0f} q/s{setup(count)}: median p99 of {len(values)} runs "
                f"{statistics.median(values):.1f} ms"
            )
    if args.skip_chroma:
        return
    chroma_search = chroma_index(corpus.passages, models, work)
    chroma_recall = statistics.mean(answer in chroma_search(q) for q, answer in sample)
    c50, c99 = percentiles(timed(chroma_search, queries[:500]))
    with ThreadPoolExecutor(max_workers=8) as pool:
        t = time.perf_counter()
        count = min(len(queries), 2000)
        list(pool.map(chroma_search, queries[:count]))
        chroma_qps = count / (time.perf_counter() - t)
    best = max(load.served for _, _, load in loaded)
    print(f"chroma: recall@5 {chroma_recall:.3f}, single query p50/p99 ms {c50:.1f}/{c99:.1f}")
    print(f"chroma, 8 threads, closed loop: {chroma_qps:.0f} q/s")
    print(
        f"ratios: QPS lbrx/chroma {best / chroma_qps:.1f}x, "
        f"single p50 chroma/lbrx {c50 / s50:.2f}x, recall@5 lbrx-chroma "
        f"{lbrx_recall - chroma_recall:+.3f}"
    )


def setup(processes: int) -> str:
    return f", {processes} processes" if processes > 1 else ", one process"


def timed(search, queries: list[str]) -> list[float]:  # type: ignore[no-untyped-def]
    latencies = []
    for query in queries:
        started = time.perf_counter()
        search(query)
        latencies.append(time.perf_counter() - started)
    return latencies


def chroma_index(passages: list[str], models: ModelManager, work: Path):  # type: ignore[no-untyped-def]
    """ChromaDB over the same passages with the same model (sentence-transformers): its search."""
    import chromadb
    from sentence_transformers import SentenceTransformer

    encoder = SentenceTransformer(str(models.catalog.resolve("all-MiniLM-L6-v2", "embedding")))
    client = chromadb.PersistentClient(path=str(work / "chroma"))
    collection = client.create_collection("bench", metadata={"hnsw:space": "cosine"})
    started = time.perf_counter()
    vectors = encoder.encode(passages, batch_size=64)
    for at in range(0, len(passages), 4000):
        collection.add(
            ids=[str(i) for i in range(at, min(at + 4000, len(passages)))],
            documents=passages[at : at + 4000],
            embeddings=vectors[at : at + 4000],
        )
    print(f"chroma: {collection.count()} chunks indexed in {time.perf_counter() - started:.1f} s")

    def search(query: str) -> list[int]:
        found = collection.query(query_embeddings=encoder.encode([query]), n_results=5)
        return [int(i) for i in found["ids"][0]]

    return search


if __name__ == "__main__":
    main()
