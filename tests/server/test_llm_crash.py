"""SIGKILL of the embedded LLM's process mid-answer costs that answer only: the server, its other
endpoints and an open transcription stream carry on, and the next chat request succeeds."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from websockets.asyncio.client import connect

from lbrxvoicepro.audio import load, resample
from lbrxvoicepro.config import Settings
from lbrxvoicepro.llm.supervised import SupervisedChatModel, engine_name
from lbrxvoicepro.runtime import ModelManager
from lbrxvoicepro.server import create_app
from lbrxvoicepro.text import wer
from tests.conftest import reference
from tests.server.conftest import bearer, clip, serving
from tests.server.test_websockets import FRAME, stream

COUNTING = [{"role": "user", "content": "Wypisz liczby od 1 do 200, oddzielone przecinkami: 1, 2,"}]
"""A prompt the bundled model continues for all of its 300 tokens (~4 s), so a kill lands
mid-answer; so does its answer to the spoken question below."""
SPOKEN_QUESTION = "Wypisz liczby od jednego do stu, po przecinku."


@pytest.fixture(scope="module")
def long_answers(server_settings: Settings, models: ModelManager) -> Iterator[str]:
    """A second server on the same models whose answers may run to 300 tokens."""
    llm = server_settings.llm.model_copy(update={"max_tokens": 300})
    with serving(create_app(server_settings.model_copy(update={"llm": llm}), models)) as address:
        yield address


def kill_llm(models: ModelManager) -> int:
    model = models.chat_model()
    assert isinstance(model, SupervisedChatModel)
    os.kill(model.pid, signal.SIGKILL)
    return model.pid


async def watch_health(base: str, done: asyncio.Event) -> list[int]:
    statuses = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        while not done.is_set():
            statuses.append((await client.get("/healthz")).status_code)
            await asyncio.sleep(0.05)
    return statuses


async def transcribe_stream(server: str, token: str) -> tuple[str, str]:
    """Real speech at real-time pace, then ``end``: returns the last event's type and the text."""
    path = clip("bigos_azon_spont_1.wav")
    samples = np.concatenate([load(path).samples, np.zeros(16000, np.float32)])
    url = f"ws://{server}/v1/stream/transcribe?language=pl&token={token}"
    async with connect(url) as ws:
        sender = asyncio.create_task(stream(ws, samples))
        events = []

        async def receive() -> None:
            async for message in ws:
                events.append(json.loads(message))

        receiver = asyncio.create_task(receive())
        await sender
        await ws.send(json.dumps({"type": "end"}))
        async with asyncio.timeout(300):
            await receiver
    finals = " ".join(e["text"] for e in events if e["type"] == "final")
    return events[-1]["type"], finals


async def streamed_chat_killed(base: str, key: str, models: ModelManager) -> list[dict]:
    body = {"model": "local", "messages": COUNTING, "stream": True}
    chunks: list[dict] = []
    async with (
        httpx.AsyncClient(base_url=base, timeout=120) as client,
        client.stream("POST", "/v1/chat/completions", json=body, headers=bearer(key)) as response,
    ):
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if not line.startswith("data: "):
                continue
            if line == "data: [DONE]":
                chunks.append({"done": True})
                continue
            chunk = json.loads(line.removeprefix("data: "))
            chunks.append(chunk)
            if len(chunks) == 2:  # the role, then the first token: the answer is under way
                assert chunk["choices"][0]["delta"].get("content"), chunks
                kill_llm(models)
    return chunks


def spoken(text: str, models: ModelManager) -> np.ndarray:
    """``text`` spoken by the default voice at 16 kHz, then 3 s of silence: one turn."""
    speech = resample(models.synthesizer().synthesize_sync(text), 16000).samples
    return np.concatenate([speech, np.zeros(3 * 16000, np.float32)])


async def conversation_answer_killed(
    server: str, token: str, question: np.ndarray, models: ModelManager
) -> list[dict]:
    url = f"ws://{server}/v1/stream/converse?language=pl&token={token}"
    events: list[dict] = []
    killed = False
    async with connect(url, max_size=None) as ws:

        async def talk() -> None:
            await stream(ws, question)
            while True:
                await stream(ws, np.zeros(FRAME, np.float32))

        talker = asyncio.create_task(talk())
        try:
            async with asyncio.timeout(180):
                async for message in ws:
                    if isinstance(message, bytes):
                        continue
                    event = json.loads(message)
                    events.append(event)
                    if event["type"] == "llm_delta" and not killed:
                        kill_llm(models)
                        killed = True
                    if event["type"] in ("error", "turn"):
                        break
        finally:
            talker.cancel()
    return events


async def test_sigkill_of_the_llm_fails_only_the_answers_in_flight(
    long_answers: str, tokens: dict[str, str], api_keys: dict[str, str], models: ModelManager
) -> None:
    live_server = long_answers
    base = f"http://{live_server}"
    question = spoken(SPOKEN_QUESTION, models)
    models.chat_model()  # loaded before the clock of the stream below starts
    done = asyncio.Event()
    health = asyncio.create_task(watch_health(base, done))
    transcription = asyncio.create_task(transcribe_stream(live_server, tokens["user"]))

    chunks = await streamed_chat_killed(base, api_keys["user"], models)
    events = await conversation_answer_killed(live_server, tokens["user"], question, models)
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        after = await client.post(
            "/v1/chat/completions",
            json={"model": "local", "messages": COUNTING},
            headers=bearer(api_keys["user"]),
        )
    last_event, text = await transcription
    done.set()
    statuses = await health

    failure = chunks[-1].get("error")
    assert failure is not None, chunks
    assert failure["type"] == "LLMUnavailable"
    assert failure["message"].startswith(f"{engine_name()} crashed (SIGKILL) while answering")
    assert {"done": True} not in chunks

    kinds = [e["type"] for e in events]
    assert "transcript" in kinds and kinds[-1] == "error", kinds
    assert events[-1]["kind"] == "LLMUnavailable" and "crashed (SIGKILL)" in events[-1]["message"]

    assert after.status_code == 200, after.text
    assert after.json()["choices"][0]["message"]["content"].strip()
    assert last_event == "done"
    assert wer(reference(clip("bigos_azon_spont_1.wav")), text) < 0.35, text
    assert len(statuses) > 10 and set(statuses) == {200}
