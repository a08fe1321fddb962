"""Findings 14 and 18: names that end in a newline or climb out of their folder, and clients
that hold connections open without sending anything."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.security.conftest import CONNECTIONS_PER_ADDRESS, IDLE_S, Target
from tests.server.conftest import clip


@pytest.mark.parametrize("name", ["a%0A", "..", ".ukryty", "a%2F..%2Fb"])
def test_dataset_names_with_a_newline_or_dots_are_refused(target: Target, name: str) -> None:
    response = httpx.post(f"{target.url}/v1/datasets/{name}", headers=target.headers("collector"))
    assert response.status_code in (404, 422), (name, response.status_code)
    made = [p.name for p in (target.data / "datasets").glob("*")]
    assert not any(n.startswith(("a\n", ".u")) for n in made), made


@pytest.mark.parametrize("speaker", ["..", "anna\n", "../../x"])
def test_a_speaker_cannot_name_a_folder_outside_the_audio(target: Target, speaker: str) -> None:
    httpx.post(f"{target.url}/v1/datasets/mowcy", headers=target.headers("collector"))
    response = httpx.post(
        f"{target.url}/v1/datasets/mowcy/audio",
        headers=target.headers("collector"),
        files={"files": ("a.wav", clip("bigos_azon_spont_4.wav").read_bytes())},
        data={"speaker": speaker},
        timeout=300,
    )
    assert response.status_code == 422, response.text
    store = target.data / "datasets" / "mowcy"
    assert sorted(p.name for p in (store / "audio").iterdir()) == []


async def test_a_silent_websocket_is_closed_after_the_idle_timeout(target: Target) -> None:
    url = f"ws://{target.address}/v1/stream/transcribe?token={target.keys['user']}"
    started = time.monotonic()
    async with connect(url) as ws, asyncio.timeout(IDLE_S * 12):
        await ws.wait_closed()
    assert ws.close_code == 1001 and time.monotonic() - started >= IDLE_S


def test_a_body_that_stops_arriving_gets_408(target: Target) -> None:
    host, port = target.address.split(":")
    with socket.create_connection((host, int(port)), timeout=IDLE_S * 12) as connection:
        connection.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
            + f"X-API-Key: {target.keys['user']}\r\n".encode()
            + b'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"model"'
        )
        answer = connection.recv(4096)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]


def test_headers_that_trickle_in_get_408_at_the_deadline(target: Target) -> None:
    """A byte of header every half second keeps any idle timer from firing: only a deadline
    for the whole of the headers ends it."""
    host, port = target.address.split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=IDLE_S * 12) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        answer = b""
        while not answer and time.monotonic() - started < IDLE_S * 12:
            with contextlib.suppress(OSError):  # closed by the server
                connection.sendall(b"a")
            connection.settimeout(0.5)
            try:
                answer = connection.recv(4096)
            except TimeoutError:
                continue
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"too slowly" in answer and time.monotonic() - started >= IDLE_S


def test_one_address_cannot_hold_more_than_its_share_of_connections(target: Target) -> None:
    host, port = target.address.split(":")
    held = [socket.create_connection((host, int(port))) for _ in range(CONNECTIONS_PER_ADDRESS)]
    try:
        with socket.create_connection((host, int(port)), timeout=30) as extra:
            extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = extra.recv(4096)
        assert answer.startswith(b"HTTP/1.1 503"), answer[:200]
        assert b"too many open connections" in answer and b"Retry-After: 1" in answer
    finally:
        for connection in held:
            connection.close()
    deadline = time.monotonic() + 30  # the server sees the closes as they are processed
    while True:
        response = httpx.get(f"{target.url}/healthz", timeout=30)
        if response.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert response.status_code == 200
