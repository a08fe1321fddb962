"""A dataset built over HTTP: create, add real speech, validate, export and download."""

from __future__ import annotations

import io
import zipfile

from fastapi.testclient import TestClient

from lbrxvoicepro.config import Settings
from tests.server.conftest import bearer, clip


def test_dataset_round_trip(
    client: TestClient, tokens: dict[str, str], server_settings: Settings
) -> None:
    headers = bearer(tokens["collector"])
    assert client.post("/v1/datasets/rozmowy", headers=headers).status_code == 201
    files = [
        (
            "files",
            (clip("bigos_azon_spont_1.wav").name, clip("bigos_azon_spont_1.wav").read_bytes()),
        ),
        ("files", ("broken.wav", b"RIFF not really")),
    ]
    added = client.post(
        "/v1/datasets/rozmowy/audio", headers=headers, files=files, data={"speaker": "anna"}
    )
    assert added.status_code == 200, added.text
    report = added.json()
    assert report["files_done"] == 1 and report["accepted"] >= 1
    assert [f["source"] for f in report["failed"]] == ["broken.wav"]
    audio = list((server_settings.server.datasets_dir / "rozmowy" / "audio").rglob("*"))
    assert audio and all(p.name.endswith(".flac.enc") for p in audio if p.is_file())
    assert "rozmowy" in client.get("/v1/datasets", headers=headers).json()["datasets"]
    summary = client.get("/v1/datasets/rozmowy", headers=headers).json()
    assert summary["speakers"][0]["id"] == "anna"
    validated = client.post("/v1/datasets/rozmowy/validate", headers=headers).json()
    assert validated["total"] == validated["accepted"] + validated["rejected"] >= 1
    export = client.post(
        "/v1/datasets/rozmowy/export",
        headers=headers,
        params={"format": "ljspeech", "validation": 0},
    )
    if validated["accepted"] == 0:
        assert export.status_code == 409
        return
    assert export.status_code == 200 and export.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(export.content)).namelist()
    assert any(n.endswith(".wav") for n in names) and any(n.endswith("metadata.csv") for n in names)


def test_unknown_and_bad_dataset_names(client: TestClient, tokens: dict[str, str]) -> None:
    headers = bearer(tokens["admin"])
    assert client.get("/v1/datasets/nie-ma", headers=headers).status_code == 404
    assert client.post("/v1/datasets/..%2Fetc", headers=headers).status_code in (404, 422)
