"""A real ``lbrxvoicepro serve`` process on loopback, attacked with ordinary ``user`` and
``collector`` keys; its memory and ``/healthz`` latency are watched during the attacks."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from lbrxvoicepro.server.auth import KeyStore
from tests.e2e.test_cli import CLI
from tests.llm.conftest import free_port
from tests.server.conftest import wait_for

IDLE_S = 5
"""The target's idle WebSocket, slow-header and slow-body timeouts (finding 18)."""
CONNECTIONS_PER_ADDRESS = 100
"""HTTP connections one address may hold open on the target (WebSockets count until they are
upgraded): above the 50 streams the burst tests open at once."""


@dataclass
class Target:
    url: str
    address: str
    process: subprocess.Popen[bytes]
    log: Path
    data: Path
    keys: dict[str, str]
    crowd: list[str]
    """Eight more ``user`` keys: many callers at once."""

    def headers(self, role: str = "user") -> dict[str, str]:
        return {"X-API-Key": self.keys[role]}

    def rss_mb(self) -> float:
        return psutil.Process(self.process.pid).memory_info().rss / 2**20


@pytest.fixture(scope="session")
def target(cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    folder = tmp_path_factory.mktemp("target")
    keys_file = folder / "keys.json"
    store = KeyStore(keys_file)
    keys = {role: store.create(role, f"attacker {role}") for role in ("user", "collector", "admin")}
    crowd = [store.create("user", f"crowd {n}") for n in range(8)]
    port = free_port()
    env = {
        **os.environ,
        "LBRX_CACHE_DIR": str(cache_dir),
        "LBRX_SERVER__KEYS_FILE": str(keys_file),
        "LBRX_SERVER__JWT_SECRET": "security-suite-secret-of-enough-length",
        "LBRX_SERVER__DATASETS_DIR": str(folder / "datasets"),
        "LBRX_SERVER__RATE_LIMIT": "100000/minute",
        "LBRX_SERVER__IP_RATE_LIMIT": "100000/minute",
        "LBRX_KB__DATA_DIR": str(folder / "kb"),
        "LBRX_DATASET__ENCRYPTION_KEY": base64.b64encode(bytes(range(32))).decode(),
        "LBRX_SERVER__IDLE_TIMEOUT_S": str(IDLE_S),
        "LBRX_SERVER__BODY_TIMEOUT_S": str(IDLE_S),
        "LBRX_SERVER__HEADER_TIMEOUT_S": str(IDLE_S),
        "LBRX_SERVER__MAX_CONNECTIONS_PER_ADDRESS": str(CONNECTIONS_PER_ADDRESS),
    }
    log = folder / "server.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [*CLI, "serve", "--port", str(port)], env=env, stdout=output, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{url}/healthz")
        yield Target(url, f"127.0.0.1:{port}", process, log, folder, keys, crowd)
    finally:
        process.terminate()
        process.wait(timeout=30)


PROBE = """
import sys, time, httpx
with httpx.Client(base_url=sys.argv[1], timeout=30) as client, open(sys.argv[2], "a") as out:
    while True:
        started = time.perf_counter()
        assert client.get("/healthz").status_code == 200
        out.write(f"{(time.perf_counter() - started) * 1000}\\n")
        out.flush()
        time.sleep(0.05)
"""
"""Polls ``/healthz`` from its own process: the attack's clients share the test's interpreter,
and their work there must not count as the server's latency."""


@dataclass
class Watch:
    """``/healthz`` latencies (from a separate process) and the server's RSS during an attack."""

    latencies_file: Path
    rss_mb: list[float] = field(default_factory=list)

    @property
    def latencies_ms(self) -> list[float]:
        return [float(line) for line in self.latencies_file.read_text().split()]

    def p99_ms(self) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


@pytest.fixture
def watch(target: Target, tmp_path: Path) -> Iterator[Watch]:
    observed, stop = Watch(tmp_path / "healthz.txt"), threading.Event()
    observed.latencies_file.touch()
    probe = subprocess.Popen(
        [sys.executable, "-c", PROBE, target.url, str(observed.latencies_file)]
    )

    def sample() -> None:
        while not stop.is_set():
            observed.rss_mb.append(target.rss_mb())
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    yield observed
    stop.set()
    probe.terminate()
    probe.wait(timeout=30)
    sampler.join(timeout=30)
