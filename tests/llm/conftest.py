"""A real OpenAI-compatible server (llama-cpp-python's) on the bundled GGUF, per session."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lbrxvoicepro.runtime import ModelManager


@pytest.fixture(scope="session")
def gguf(models: ModelManager) -> Path:
    return models.catalog.resolve("gemma-3-270m", "llm")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def llm_server(gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("llm-server") / "server.log"
    with open(log, "wb") as output:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(gguf),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--n_ctx",
                "2048",
                "--model_alias",
                "gemma",
                # a base GGUF has no chat template; the server must be told the turn format
                "--chat_format",
                "gemma",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 300
        while True:
            assert server.poll() is None, log.read_text(errors="replace")[-2000:]
            try:
                if httpx.get(f"{base_url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the LLM server did not start in 300 s"
            time.sleep(0.5)
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=30)
