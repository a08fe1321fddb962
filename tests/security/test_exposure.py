"""Findings 11, 13, 15 and 17: what the server shows and believes without being asked."""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from pydantic import SecretStr

from lbrxvoicepro.config import Settings
from lbrxvoicepro.dataset.crypto import AudioCipher
from lbrxvoicepro.dataset.store import DatasetStore
from lbrxvoicepro.server import create_app
from tests.e2e.test_cli import CLI
from tests.security.conftest import Target


def test_the_schema_and_docs_pages_need_a_credential(target: Target) -> None:
    for path in ("/openapi.json", "/docs", "/redoc"):
        assert httpx.get(f"{target.url}{path}").status_code == 401, path
        assert httpx.get(f"{target.url}{path}", headers=target.headers()).status_code == 200


def test_every_error_has_the_documented_shape(target: Target) -> None:
    unknown = httpx.get(f"{target.url}/v1/datasets/nie-ma", headers=target.headers("collector"))
    invalid = httpx.post(f"{target.url}/v1/chat/completions", headers=target.headers(), json={})
    missing = httpx.get(f"{target.url}/v1/nothing-here", headers=target.headers())
    for response, status in ((unknown, 404), (invalid, 422), (missing, 404)):
        assert response.status_code == status
        error = response.json()["error"]
        assert error["message"] and error["type"], response.text


def test_a_chunked_body_over_the_limit_gets_413(target: Target) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(30):
            yield b"\0" * 2**20

    response = httpx.post(
        f"{target.url}/v1/audio/transcriptions",
        headers={**target.headers(), "Content-Type": "multipart/form-data; boundary=x"},
        content=chunks(),
        timeout=120,
    )
    assert response.status_code == 413 and response.json()["error"]["type"] == "TooLarge"


def test_forwarded_addresses_from_an_untrusted_peer_are_ignored(target: Target) -> None:
    """uvicorn believed X-Forwarded-For from 127.0.0.1, so a local client could pick any
    address for the per-address limit and the log."""
    for n in range(3):
        headers = {**target.headers(), "X-Forwarded-For": f"203.0.113.{n}"}
        assert httpx.get(f"{target.url}/v1/models", headers=headers).status_code == 200
    assert "203.0.113." not in target.log.read_text(errors="replace")


def test_a_malformed_encryption_key_stops_the_start(cache_dir: Path) -> None:
    started = subprocess.run(
        [*CLI, "serve", "--port", "9"],
        env={**os.environ, "LBRX_CACHE_DIR": str(cache_dir), "LBRX_DATASET__ENCRYPTION_KEY": "x"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.returncode == 1
    assert "dataset.encryption_key: not a 32-byte key" in started.stderr


def test_error_messages_name_no_server_folder(tmp_path: Path, settings: Settings) -> None:
    """A dataset encrypted with another key: the 409 names the dataset, not where it lives."""
    datasets = tmp_path / "srv" / "datasets"
    DatasetStore(datasets / "obce", AudioCipher(bytes(32))).close()
    mine = settings.model_copy(
        update={
            "server": settings.server.model_copy(update={"datasets_dir": datasets, "auth": False}),
            "dataset": settings.dataset.model_copy(
                update={"encryption_key": SecretStr(base64.b64encode(bytes(range(32))).decode())}
            ),
        }
    )
    with TestClient(create_app(mine)) as client:
        response = client.get("/v1/datasets/obce")
    assert response.status_code == 409
    message = response.json()["error"]["message"]
    assert message == "obce: wrong encryption key for this dataset", message
