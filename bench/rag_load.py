"""Open-loop load for the retrieval benchmark, in this process or split over several.

Several processes model how the server scales out on one machine: N ``lbrxvoicepro serve``
processes behind a load balancer, each with its own knowledge base opened from the same file and
its share of the cores (``kb.search_workers``), each sent 1/N of the load.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from multiprocessing.connection import Connection

from lbrxvoicepro.config import Settings
from lbrxvoicepro.runtime import ModelManager


@dataclass
class Load:
    latencies: list[float]
    """Seconds from each query's scheduled send to its answer."""
    served: float
    """Queries per second answered."""
    busy: float
    """Share of all cores the serving processes kept busy (their senders included)."""


def open_loop(
    submit: Callable[[str], Future], queries: list[str], rate: float, seconds: float
) -> tuple[list[float], float, float, float]:
    """Send at ``rate`` per second for ``seconds`` whatever the answers' speed: latencies from
    each scheduled send time, queries/s served, and this process's CPU and wall seconds."""
    total = int(rate * seconds)
    latencies: list[float] = []
    lock = threading.Lock()
    done = threading.Event()
    began, cpu_began = time.perf_counter(), time.process_time()
    start = began + 0.05

    def finished(scheduled: float) -> Callable[[Future], None]:
        def record(_future: Future) -> None:
            with lock:
                latencies.append(time.perf_counter() - scheduled)
                if len(latencies) == total:
                    done.set()

        return record

    for index in range(total):
        scheduled = start + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        submit(queries[index % len(queries)]).add_done_callback(finished(scheduled))
    done.wait()
    ended = time.perf_counter()
    return latencies, total / (ended - start), time.process_time() - cpu_began, ended - began


def in_process(submit: Callable[[str], Future], queries: list[str]) -> Callable[..., Load]:
    """Runs of the load against ``submit`` in this process."""

    def run(rate: float, seconds: float) -> Load:
        latencies, served, cpu, wall = open_loop(submit, queries, rate, seconds)
        return Load(latencies, served, cpu / (wall * (os.cpu_count() or 1)))

    return run


class ProcessSplit:
    """``count`` processes, each a knowledge base opened from ``settings`` with its share of the
    cores, started together on each run and sent ``rate / count`` queries per second each (every
    process its own slice of the questions)."""

    def __init__(self, count: int, settings: Settings, name: str, queries: list[str]) -> None:
        context = multiprocessing.get_context("spawn")
        workers = max(1, (os.cpu_count() or 1) // count)
        kb = settings.kb.model_copy(update={"search_workers": workers})
        self._pipes: list[Connection] = []
        self._processes = []
        for index in range(count):
            parent, child = context.Pipe()
            offset = index * len(queries) // count
            process = context.Process(
                target=_serve_share,
                args=(
                    child,
                    settings.model_copy(update={"kb": kb}),
                    name,
                    queries[offset:] + queries[:offset],
                ),
                daemon=True,
            )
            process.start()
            child.close()  # so that a child that dies ends ``recv`` with EOFError, not a hang
            self._pipes.append(parent)
            self._processes.append(process)
        for pipe in self._pipes:
            pipe.recv()  # loaded and warmed up

    def run(self, rate: float, seconds: float) -> Load:
        start_at = time.time() + 0.5
        for pipe in self._pipes:
            pipe.send((rate / len(self._pipes), seconds, start_at))
        shares = [pipe.recv() for pipe in self._pipes]
        latencies = [latency for share in shares for latency in share[0]]
        cpu = sum(share[2] for share in shares)
        wall = max(share[3] for share in shares)
        return Load(
            latencies, sum(share[1] for share in shares), cpu / (wall * (os.cpu_count() or 1))
        )

    def close(self) -> None:
        for pipe in self._pipes:
            pipe.send(None)
        for process in self._processes:
            process.join()


def _serve_share(pipe: Connection, settings: Settings, name: str, queries: list[str]) -> None:
    kb = ModelManager(settings, freeze_after_load=True).knowledge_base(name)
    kb.retriever.search_many(queries[:64])
    pipe.send("ready")
    while (job := pipe.recv()) is not None:
        rate, seconds, start_at = job
        time.sleep(max(0.0, start_at - time.time()))
        pipe.send(open_loop(kb.batcher.submit, queries, rate, seconds))
    kb.close()
