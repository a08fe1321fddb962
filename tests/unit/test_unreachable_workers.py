"""Workers that cannot be reached (``asr.remote_url`` naming a port nobody listens on): a file
transcription fails with the address and reason, and a conversation's turn fails with a
``turn_failed`` event while the conversation goes on to the next turn."""

from __future__ import annotations

import asyncio

import pytest

from lbrxvoicepro.audio import load
from lbrxvoicepro.config import Settings
from lbrxvoicepro.conversation import ConversationEngine, Event, TurnFailed
from lbrxvoicepro.runtime import ModelManager
from lbrxvoicepro.runtime.remote import WorkerError
from tests.llm.conftest import free_port
from tests.server.conftest import clip


@pytest.fixture(scope="module")
def unreachable(settings: Settings) -> tuple[Settings, str]:
    url = f"http://127.0.0.1:{free_port()}"
    asr = settings.asr.model_copy(update={"remote_url": url})
    return settings.model_copy(update={"asr": asr}), url


def test_a_transcription_names_the_worker_it_could_not_reach(
    unreachable: tuple[Settings, str],
) -> None:
    settings, url = unreachable
    transcriber = ModelManager(settings).transcriber()
    with pytest.raises(WorkerError, match=f"{url}/v1/audio/transcriptions: ConnectError"):
        transcriber.transcribe(load(clip("bigos_azon_spont_0.wav")))


def test_a_turn_whose_recognition_fails_is_reported_and_the_next_turn_is_heard(
    unreachable: tuple[Settings, str],
) -> None:
    settings, url = unreachable
    events: list[Event] = []

    async def emit(event: Event) -> None:
        events.append(event)

    async def two_turns() -> None:
        question = load(clip("bigos_azon_spont_0.wav"))
        async with ConversationEngine(
            ModelManager(settings), settings, emit, realtime=False
        ) as engine:
            await engine.turn(question)
            await engine.turn(question)

    asyncio.run(asyncio.wait_for(two_turns(), timeout=120))
    failures = [e for e in events if isinstance(e, TurnFailed)]
    assert len(failures) == 2 and all(url in f.message for f in failures), events
