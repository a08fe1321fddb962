"""Property-based fuzzing of the OpenAPI schema and malformed audio: never a 5xx, never a crash."""

from __future__ import annotations

import io
import os
import struct

import numpy as np
import pytest
import schemathesis
import soundfile as sf
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from tests.server.conftest import bearer


def test_no_generated_request_makes_the_server_fail(app: FastAPI, tokens: dict[str, str]) -> None:
    """Every operation in the OpenAPI schema, with inputs generated from it (schemathesis)."""
    headers = bearer(tokens["admin"])
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, headers=headers)
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def no_server_error(case) -> None:  # type: ignore[no-untyped-def]
            response = case.call(headers=headers)
            assert response.status_code < 500, (
                case.path,
                response.status_code,
                response.text[:300],
            )

        no_server_error()
        checked.append(operation.path)
    assert len(checked) >= 9


def wav(samples: np.ndarray, rate: int = 16000) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format="WAV")
    return buffer.getvalue()


GOOD = wav(np.zeros(16000, dtype=np.float32))
MALFORMED = {
    "empty.wav": b"",
    "random.wav": os.urandom(20_000),
    "random.mp3": os.urandom(20_000),
    "truncated.wav": GOOD[:100],
    "header-only.wav": GOOD[:44],
    "lying-size.wav": GOOD[:4]
    + struct.pack("<I", 2**31)
    + GOOD[8:40]
    + struct.pack("<I", 2**31)
    + GOOD[44:],
    "zero-rate.wav": GOOD[:24] + struct.pack("<I", 0) + GOOD[28:],
    "text.wav": "to nie jest dźwięk".encode(),
    "nan.wav": wav(np.full(1600, np.nan, dtype=np.float32)),
    "tiny.wav": wav(np.zeros(1, dtype=np.float32)),
    "8khz-stereo.wav": wav(np.zeros((8000, 2), dtype=np.float32), 8000),
}


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_audio_is_a_clear_client_error(
    client: TestClient, tokens: dict[str, str], name: str
) -> None:
    response = client.post(
        "/v1/audio/transcriptions",
        headers=bearer(tokens["user"]),
        files={"file": (name, MALFORMED[name])},
    )
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert response.json()["error"]["message"].startswith(f"{name}: ")
    assert client.get("/healthz").status_code == 200
