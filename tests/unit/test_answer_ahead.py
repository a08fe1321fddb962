"""An answer begun on the question's draft before the turn has ended
(``conversation.answer_ahead``): heard once the turn ends with no more speech, dropped unheard
when the user goes on. Real models: Silero, Whisper, Gemma 3 270M, eSpeak NG."""

from __future__ import annotations

import asyncio

import numpy as np

from lbrxvoicepro.audio import load
from lbrxvoicepro.config import Settings
from lbrxvoicepro.conversation import (
    FRAME_S,
    AnswerAudio,
    AnswerDelta,
    ConversationEngine,
    ConversationSetup,
    Event,
    Heard,
    Partial,
    TurnDone,
    TurnFailed,
)
from lbrxvoicepro.llm import ChatMessage
from lbrxvoicepro.runtime import ModelManager
from lbrxvoicepro.text import cer

FRAME = 1600
FIRST = "Jaka jest stolica Polski?"
THEN = "A jaka jest stolica Niemiec?"


def spoken(models: ModelManager, text: str) -> np.ndarray:
    return load(models.synthesizer("espeak:pl").synthesize_sync(text), 16000).samples


async def converse(
    models: ModelManager, settings: Settings, parts: list[np.ndarray]
) -> tuple[list[Event], list[ChatMessage]]:
    """Each part is spoken, then silence follows until the engine has recognised the question
    so far at the pause (its draft, shown as the only kind of partial here); after the last
    part, until the turn is done. The pause alone (3 s) ends a turn, so it never ends before
    its draft is recognised."""
    settings = settings.model_copy(
        update={
            "conversation": settings.conversation.model_copy(
                update={"turn_model": "", "partial_every_ms": 0}  # partials: drafts alone
            ),
            "vad": settings.vad.model_copy(update={"max_pause_ms": 3000}),
            "llm": settings.llm.model_copy(update={"max_tokens": 24, "temperature": 0.0}),
        }
    )
    events: list[Event] = []
    history: list[ChatMessage] = []

    async def emit(event: Event) -> None:
        events.append(event)

    def count(*kinds: type) -> int:
        return sum(isinstance(event, kinds) for event in events)

    silence = np.zeros(FRAME, np.float32)
    setup = ConversationSetup(language="pl", voice="espeak:pl")
    async with asyncio.timeout(300):  # a missing event fails the test, never hangs it
        async with ConversationEngine(
            models, settings, emit, setup=setup, history=history, realtime=False
        ) as engine:
            await engine.warm_up()
            for part in parts:
                shown = count(Partial)
                for first in range(0, len(part), FRAME):
                    await engine.feed(part[first : first + FRAME])
                while count(Partial) == shown:
                    await engine.feed(silence)
                    await asyncio.sleep(FRAME_S)
                await asyncio.sleep(0)  # the draft's own callbacks run before the next frame
            while not count(TurnDone, TurnFailed):
                await engine.feed(silence)
                await asyncio.sleep(FRAME_S)
    return events, history


def heard_first(events: list[Event]) -> None:
    """Nothing of the answer is seen or heard before its question's transcript."""
    kinds = [type(event) for event in events]
    assert kinds.count(Heard) == 1, kinds
    answer = [i for i, kind in enumerate(kinds) if kind in (AnswerDelta, AnswerAudio)]
    assert answer and kinds.index(Heard) < answer[0], kinds


async def test_the_answer_begun_on_the_draft_is_heard_when_the_turn_ends(
    models: ModelManager, settings: Settings
) -> None:
    events, history = await converse(models, settings, [spoken(models, FIRST)])
    heard_first(events)
    done = next(event for event in events if isinstance(event, TurnDone))
    assert done.timings["asr_ms"] == 0 and done.timings["answer_ahead_ms"] > 0, done.timings
    assert "answers_dropped" not in done.timings
    heard = next(event.text for event in events if isinstance(event, Heard))
    assert cer(FIRST, heard) < 0.3, heard
    assert [m.role for m in history] == ["user", "assistant"] and history[0].content == heard


async def test_an_answer_begun_on_a_draft_is_dropped_unheard_when_the_user_goes_on(
    models: ModelManager, settings: Settings
) -> None:
    parts = [spoken(models, FIRST), spoken(models, THEN)]
    events, history = await converse(models, settings, parts)
    heard_first(events)
    done = next(event for event in events if isinstance(event, TurnDone))
    assert done.timings["answers_dropped"] == 1, done.timings
    heard = next(event.text for event in events if isinstance(event, Heard))
    assert cer(f"{FIRST} {THEN}", heard) < 0.3, heard
    assert [m.role for m in history] == ["user", "assistant"] and history[0].content == heard
