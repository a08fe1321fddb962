"""Findings 3 and 10: uploads kept in plaintext beside encrypted audio, and uploads of the
same name overwriting each other (and a different recording skipped as a duplicate)."""

from __future__ import annotations

import httpx

from tests.security.conftest import Target
from tests.server.conftest import clip


def upload(target: Target, dataset: str, name: str, data: bytes) -> dict:
    response = httpx.post(
        f"{target.url}/v1/datasets/{dataset}/audio",
        headers=target.headers("collector"),
        files={"files": (name, data)},
        data={"speaker": "anna"},
        timeout=300,
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_no_upload_is_kept_in_plaintext_and_names_do_not_collide(target: Target) -> None:
    created = httpx.post(f"{target.url}/v1/datasets/szyfr", headers=target.headers("collector"))
    assert created.status_code == 201, created.text
    first = clip("bigos_azon_spont_1.wav").read_bytes()
    second = clip("bigos_azon_spont_3.wav").read_bytes()
    assert upload(target, "szyfr", "nagranie.wav", first)["files_done"] == 1
    assert upload(target, "szyfr", "nagranie.wav", second)["files_done"] == 1
    again = upload(target, "szyfr", "nagranie.wav", first)
    assert again["files_done"] == 0 and again["files_skipped"] == 1

    pieces = [data[len(data) // 2 : len(data) // 2 + 4096] for data in (first, second)]
    for path in (target.data / "datasets").rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert not any(piece in content for piece in pieces), f"plaintext audio in {path}"
    store = target.data / "datasets" / "szyfr"
    loose = [p for p in [store, *store.rglob("*")] if p.stat().st_mode & 0o077]
    assert loose == [], "readable by others (finding 15)"
    summary = httpx.get(f"{target.url}/v1/datasets/szyfr", headers=target.headers("collector"))
    anna = summary.json()["speakers"][0]
    assert anna["accepted"] + anna["rejected"] >= 2, summary.text
