"""A server app with auth on, keys and tokens for every role, and a real Redis when asked."""

from __future__ import annotations

import base64
import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from lbrxvoicepro.config import Settings
from lbrxvoicepro.runtime import ModelManager
from lbrxvoicepro.server import create_app
from lbrxvoicepro.server.auth import ROLES, KeyStore, issue_token
from tests.llm.conftest import free_port

SECRET = "test-secret-of-enough-length-for-hs256"


@pytest.fixture(scope="session")
def server_settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("server")
    return settings.model_copy(
        update={
            "server": settings.server.model_copy(
                update={
                    "jwt_secret": SECRET,
                    "keys_file": folder / "keys.json",
                    "rate_limit": "100000/minute",
                    "ip_rate_limit": "100000/minute",
                    "datasets_dir": folder / "datasets",
                }
            ),
            "dataset": settings.dataset.model_copy(
                update={"encryption_key": SecretStr(base64.b64encode(bytes(range(32))).decode())}
            ),
            "kb": settings.kb.model_copy(update={"data_dir": folder / "kb"}),
            "llm": settings.llm.model_copy(update={"max_tokens": 24, "temperature": 0.0}),
        }
    )


@pytest.fixture(scope="session")
def app(server_settings: Settings, models: ModelManager) -> FastAPI:
    return create_app(server_settings, models)


@pytest.fixture(scope="session")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def api_keys(server_settings: Settings) -> dict[str, str]:
    store = KeyStore(server_settings.server.keys_file)
    return {role: store.create(role, f"test {role}") for role in ROLES}


@pytest.fixture(scope="session")
def tokens(server_settings: Settings) -> dict[str, str]:
    return {role: issue_token(server_settings.server, f"tester-{role}", role) for role in ROLES}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("redis-server")
    assert binary, "redis-server is installed by `make install` (apt-get install redis-server)"
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 60
    while True:
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.1)
    yield url
    server.terminate()
    server.wait(timeout=10)


def wait_for(url: str, timeout: float = 180) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            assert time.monotonic() < deadline, f"{url} did not answer"
            time.sleep(0.2)


def clip(name: str) -> Path:
    return Path(__file__).parent.parent / "data" / "pl" / name


@contextlib.contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """``app`` on a real socket (uvicorn in a thread): yields ``host:port``."""
    import threading

    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(f"http://127.0.0.1:{port}/healthz")
    yield f"127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(app: FastAPI) -> Iterator[str]:
    """The app on a real socket, for WebSocket clients."""
    with serving(app) as address:
        yield address
