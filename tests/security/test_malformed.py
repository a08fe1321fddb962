"""Finding 12: malformed input answered with plain 500s (or a close without a code)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.security.conftest import Target
from tests.server.conftest import clip

SPEECH = clip("bigos_azon_spont_1.wav")


@pytest.mark.parametrize("name", ["..", "na\0me.wav", "x" * 300 + ".wav", "a/../../b.wav"])
def test_hostile_file_names_are_made_plain(target: Target, name: str) -> None:
    response = httpx.post(
        f"{target.url}/v1/audio/transcriptions",
        headers=target.headers(),
        files={"file": (name, b"RIFF not audio")},
        timeout=60,
    )
    assert response.status_code == 400, response.text
    message = response.json()["error"]["message"]
    assert "\0" not in message and ".." not in message.split(":")[0]
    assert len(message.split(":")[0].encode()) <= 200


def test_a_document_named_dot_dot_stays_inside_the_knowledge_base(target: Target) -> None:
    response = httpx.post(
        f"{target.url}/v1/kb/notatki/documents",
        headers=target.headers("admin"),
        files={"files": ("..", b"Kod do sejfu to 4711.")},
        timeout=300,
    )
    assert response.status_code == 200, response.text
    folder = target.data / "kb" / "documents"
    assert sorted(p.name for p in folder.iterdir()) == ["notatki"]
    assert [p.name for p in (folder / "notatki").iterdir()] == ["document.txt"]


def test_an_unknown_language_is_422(target: Target) -> None:
    response = httpx.post(
        f"{target.url}/v1/audio/transcriptions",
        headers=target.headers(),
        files={"file": ("a.wav", SPEECH.read_bytes())},
        data={"language": "zz"},
        timeout=120,
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["type"] == "UnknownLanguage"


@pytest.mark.parametrize("share", ["nan", "inf", "1e308", "-0.5"])
def test_an_impossible_validation_share_is_422(target: Target, share: str) -> None:
    httpx.post(f"{target.url}/v1/datasets/udzialy", headers=target.headers("collector"))
    response = httpx.post(
        f"{target.url}/v1/datasets/udzialy/export",
        headers=target.headers("collector"),
        params={"format": "ljspeech", "validation": share},
    )
    assert response.status_code == 422, response.text


def test_a_lone_surrogate_is_422(target: Target) -> None:
    body = '{"model": "local", "messages": [{"role": "user", "content": "a\\ud800b"}]}'
    response = httpx.post(
        f"{target.url}/v1/chat/completions",
        headers={**target.headers(), "Content-Type": "application/json"},
        content=body,
    )
    assert response.status_code == 422, response.text


async def test_a_malformed_text_frame_closes_with_1007(target: Target) -> None:
    url = f"ws://{target.address}/v1/stream/transcribe?token={target.keys['user']}"
    async with connect(url) as ws, asyncio.timeout(60):
        await ws.send("{not json")
        await ws.wait_closed()
    assert ws.close_code == 1007
