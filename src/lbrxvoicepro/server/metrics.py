"""``/metrics`` (Prometheus, admin only): HTTP requests and latency, and the shared decoder's
queue, quality level, open streams, batch sizes and refusals."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator

from fastapi import Depends, FastAPI, Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from lbrxvoicepro.asr.scheduler import DecodeScheduler
from lbrxvoicepro.server.deps import require


class DecoderMetrics(Collector):
    """The decoder's state, read at each scrape."""

    def __init__(self, decoder: DecodeScheduler) -> None:
        self.decoder = decoder

    def collect(self) -> Iterator[Metric]:
        decoder = self.decoder
        yield GaugeMetricFamily(
            "lbrx_decoder_queue", "recognition requests waiting", value=decoder.queued
        )
        yield GaugeMetricFamily(
            "lbrx_decoder_level",
            "quality level (0 full, 1 no partials, 2 greedy)",
            value=decoder.level,
        )
        yield GaugeMetricFamily(
            "lbrx_decoder_streams", "live streams counted by the decoder", value=decoder.streams
        )
        yield CounterMetricFamily(
            "lbrx_decoder_refused",
            "streams and requests refused at capacity",
            value=decoder.refused,
        )


def add_metrics(app: FastAPI, decoder: DecodeScheduler) -> None:
    registry = CollectorRegistry()
    registry.register(DecoderMetrics(decoder))
    batches = Histogram(
        "lbrx_decoder_batch_size",
        "requests decoded together in one batch",
        buckets=(1, 2, 4, 8, 16, 32),
        registry=registry,
    )
    decoder.on_batch = lambda report: batches.observe(report.size)
    requests = Counter(
        "lbrx_requests", "HTTP requests", ["method", "route", "status"], registry=registry
    )
    latency = Histogram("lbrx_request_seconds", "HTTP latency", ["route"], registry=registry)

    @app.middleware("http")
    async def measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        requests.labels(request.method, route, str(response.status_code)).inc()
        latency.labels(route).observe(time.perf_counter() - started)
        return response

    @app.get("/metrics", tags=["ops"], dependencies=[Depends(require("admin"))])
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type="text/plain; version=0.0.4")
