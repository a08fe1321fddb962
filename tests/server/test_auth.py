"""Every endpoint × {no token, expired, bad signature, wrong role, right role}; rate limits."""

from __future__ import annotations

import io
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import numpy as np
import pytest
import soundfile as sf
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lbrxvoicepro.config import Settings
from lbrxvoicepro.runtime import ModelManager
from lbrxvoicepro.server import create_app
from lbrxvoicepro.server.auth import ROLES, issue_token
from tests.e2e.test_cli import CLI
from tests.llm.conftest import free_port
from tests.server.conftest import SECRET, bearer, wait_for


def tone_wav() -> bytes:
    buffer = io.BytesIO()
    t = np.arange(16000) / 16000
    sf.write(buffer, 0.1 * np.sin(2 * np.pi * 440 * t), 16000, format="WAV")
    return buffer.getvalue()


# (method, path, least role, request arguments): every HTTP endpoint of the API.
ENDPOINTS = [
    ("POST", "/v1/audio/transcriptions", "user", {"files": {"file": ("t.wav", tone_wav())}}),
    ("POST", "/v1/audio/speech", "user", {"json": {"input": "Tak.", "response_format": "pcm"}}),
    (
        "POST",
        "/v1/chat/completions",
        "user",
        {"json": {"messages": [{"role": "user", "content": "Hej"}], "max_tokens": 1}},
    ),
    ("GET", "/v1/models", "user", {}),
    ("GET", "/v1/kb", "user", {}),
    ("POST", "/v1/kb/{name}/query", "user", {"json": {"query": "test"}}),
    ("POST", "/v1/kb/{name}/documents", "admin", {"files": {"files": ("a.txt", b"Tekst.")}}),
    ("GET", "/metrics", "admin", {}),
    ("GET", "/v1/datasets", "collector", {}),
    ("POST", "/v1/datasets/{name}", "collector", {}),
    ("GET", "/v1/datasets/{name}", "collector", {}),
    (
        "POST",
        "/v1/datasets/{name}/audio",
        "collector",
        {"files": {"files": ("t.wav", tone_wav())}, "data": {"speaker": "s"}},
    ),
    ("POST", "/v1/datasets/{name}/validate", "collector", {}),
    ("POST", "/v1/datasets/{name}/export", "collector", {"params": {"format": "ljspeech"}}),
    ("GET", "/v1/datasets/{name}/speakers", "collector", {}),
    ("POST", "/v1/datasets/{name}/speakers", "collector", {"json": {"id": "s", "consent": True}}),
    ("GET", "/v1/datasets/{name}/prompts", "collector", {}),
    ("PUT", "/v1/datasets/{name}/prompts/{prompt_set}", "collector", {"content": "Zdanie."}),
    (
        "GET",
        "/v1/datasets/{name}/progress",
        "collector",
        {"params": {"speaker": "s", "prompts": "pl"}},
    ),
    (
        "POST",
        "/v1/datasets/{name}/takes",
        "collector",
        {
            "params": {"speaker": "s", "prompts": "pl", "number": 1, "sample_rate": 16000},
            "content": bytes(3200),
        },
    ),
    ("GET", "/v1/datasets/{name}/utterances", "collector", {}),
    ("GET", "/v1/datasets/{name}/utterances/{identifier}/audio", "collector", {}),
    (
        "PATCH",
        "/v1/datasets/{name}/utterances/{identifier}",
        "collector",
        {"json": {"status": "rejected"}},
    ),
    ("GET", "/v1/datasets/{name}/charts", "collector", {}),
]
WEBSOCKETS = [("/v1/stream/transcribe", "user"), ("/v1/stream/converse", "user")]
PUBLIC = {
    "/healthz",
    "/openapi.json",
    "/docs",
    "/redoc",
    "/talk",
    "/studio",
    "/studio/review",
    "/pages/{name}",
}


def credentials(case: str, role: str, server: Settings) -> dict[str, str]:
    now = int(time.time())
    claims = {"sub": "someone", "iss": server.server.jwt_issuer, "aud": server.server.jwt_audience}
    if case == "no token":
        return {}
    if case == "expired":
        return bearer(jwt.encode({**claims, "role": role, "exp": now - 60}, SECRET))
    if case == "bad signature":
        return bearer(jwt.encode({**claims, "role": role, "exp": now + 60}, "another-secret-key!"))
    if case == "wrong role":
        lower = ROLES[ROLES.index(role) - 1] if role != "user" else "guest"  # no role is below user
        return bearer(jwt.encode({**claims, "role": lower, "exp": now + 60}, SECRET))
    return bearer(issue_token(server.server, "someone", role))  # type: ignore[arg-type]


CASES = ["no token", "expired", "bad signature", "wrong role", "right role"]


def expected(case: str, role: str) -> int | None:
    if case == "right role":
        return None
    return 403 if case == "wrong role" and role != "user" else 401


def test_the_matrix_covers_every_route(app: FastAPI) -> None:
    routes = [
        route
        for entry in app.routes
        for route in getattr(getattr(entry, "original_router", None), "routes", [entry])
    ]
    http = {(m, r.path) for r in routes for m in getattr(r, "methods", None) or ()}
    http = {(m, p) for m, p in http if p not in PUBLIC and m != "HEAD"}
    assert http == {(m, p) for m, p, _, _ in ENDPOINTS}
    sockets = {r.path for r in routes if "WebSocket" in type(r).__name__}  # type: ignore[attr-defined]
    assert sockets == {p for p, _ in WEBSOCKETS}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize(
    ("method", "path", "role", "request_args"), ENDPOINTS, ids=[e[1] for e in ENDPOINTS]
)
def test_http_auth_matrix(
    client: TestClient,
    server_settings: Settings,
    case: str,
    method: str,
    path: str,
    role: str,
    request_args: dict,
) -> None:
    response = client.request(
        method,
        path.format(name="auth-matrix", prompt_set="zdania", identifier="nope"),
        headers=credentials(case, role, server_settings),
        **request_args,
    )
    status = expected(case, role)
    if status is None:
        assert response.status_code not in (401, 403) and response.status_code < 500, response.text
    else:
        assert response.status_code == status, response.text
        if status == 401:
            assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize(("path", "role"), WEBSOCKETS)
def test_websocket_auth_matrix(
    client: TestClient, server_settings: Settings, case: str, path: str, role: str
) -> None:
    from starlette.websockets import WebSocketDisconnect

    status = expected(case, role)
    with client.websocket_connect(path, headers=credentials(case, role, server_settings)) as ws:
        if status is None:
            ws.send_bytes(b"\x00\x00" * 1600)
            if path.endswith("converse"):
                assert ws.receive_json()["type"] == "session"
            ws.close()
            return
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert closed.value.code == 4000 + status


def test_api_keys_carry_their_role(client: TestClient, api_keys: dict[str, str]) -> None:
    assert client.get("/metrics", headers={"X-API-Key": api_keys["admin"]}).status_code == 200
    assert client.get("/metrics", headers={"X-API-Key": api_keys["collector"]}).status_code == 403
    assert client.get("/v1/models", headers=bearer(api_keys["user"])).status_code == 200
    forged = api_keys["user"][:-3] + "xyz"
    assert client.get("/v1/models", headers={"X-API-Key": forged}).status_code == 401


def test_limits_answer_429_with_retry_after(
    server_settings: Settings, models: ModelManager, api_keys: dict[str, str]
) -> None:
    tight = server_settings.server.model_copy(update={"rate_limit": "3/minute"})
    app = create_app(server_settings.model_copy(update={"server": tight}), models)
    with TestClient(app) as client:
        headers = {"X-API-Key": api_keys["user"]}
        assert [client.get("/v1/models", headers=headers).status_code for _ in range(3)] == [
            200
        ] * 3
        limited = client.get("/v1/models", headers=headers)
        assert limited.status_code == 429 and 1 <= int(limited.headers["retry-after"]) <= 60
        assert client.get("/v1/models", headers={"X-API-Key": api_keys["admin"]}).status_code == 200


def test_request_bodies_over_the_limit_get_413(
    server_settings: Settings, models: ModelManager, api_keys: dict[str, str]
) -> None:
    small = server_settings.server.model_copy(update={"max_upload_mb": 0.01})
    with TestClient(
        create_app(server_settings.model_copy(update={"server": small}), models)
    ) as client:
        response = client.post(
            "/v1/audio/transcriptions",
            headers={"X-API-Key": api_keys["user"]},
            files={"file": ("big.wav", b"\x00" * 50_000)},
        )
    assert response.status_code == 413


@pytest.fixture
def two_servers(
    redis_url: str, server_settings: Settings, cache_dir: Path, tmp_path: Path
) -> Iterator[list[str]]:
    env = {
        **os.environ,
        "LBRX_CACHE_DIR": str(cache_dir),
        "LBRX_SERVER__REDIS_URL": redis_url,
        "LBRX_SERVER__RATE_LIMIT": "4/minute",
        "LBRX_SERVER__JWT_SECRET": SECRET,
        "LBRX_SERVER__KEYS_FILE": str(server_settings.server.keys_file),
    }
    ports = [free_port(), free_port()]
    processes = [
        subprocess.Popen([*CLI, "serve", "--port", str(port)], env=env, stderr=subprocess.DEVNULL)
        for port in ports
    ]
    try:
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url in urls:
            wait_for(f"{url}/healthz")
        yield urls
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)


def test_two_server_processes_share_rate_limits_through_redis(
    two_servers: list[str], server_settings: Settings
) -> None:
    token = issue_token(server_settings.server, f"shared-{time.time()}", "user")
    statuses = [
        httpx.get(f"{two_servers[n % 2]}/v1/models", headers=bearer(token)).status_code
        for n in range(6)
    ]
    assert statuses == [200, 200, 200, 200, 429, 429]


def test_serve_refuses_a_public_address_without_auth(cache_dir: Path) -> None:
    result = subprocess.run(
        [*CLI, "serve", "--host", "0.0.0.0", "--no-auth"],
        capture_output=True,
        text=True,
        env={**os.environ, "LBRX_CACHE_DIR": str(cache_dir)},
        timeout=60,
    )
    assert result.returncode == 1
    assert "refusing to serve on 0.0.0.0 without auth" in result.stderr
