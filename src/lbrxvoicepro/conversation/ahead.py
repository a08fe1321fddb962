"""An answer begun on the question's draft before the turn is confirmed.

At a pause the question so far is recognised (the draft). When that transcript is ready and
the user is still quiet, the answer starts at once: retrieval, the LLM and the first synthesis
run while the end-of-turn model and the pause decide whether the user is done. What it emits
is held until the turn ends with that same speech; if the user goes on instead, the answer is
dropped unheard, and the question is answered whole when it ends.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from lbrxvoicepro.conversation.events import Emit, Event
from lbrxvoicepro.conversation.reply import Reply


@dataclass
class HeldEvents:
    """An answer's emitter: its events wait until ``release`` (at once for a turn already
    over), so that nothing of an answer is seen or heard before its question's turn ends."""

    emit: Emit
    held: list[Event] = field(default_factory=list)
    released: asyncio.Event = field(default_factory=asyncio.Event)
    ended_at: float = 0.0
    """``time.perf_counter()`` at the end of the turn: first audio is timed from there."""

    async def __call__(self, event: Event) -> None:
        if self.released.is_set():
            await self.emit(event)
        else:
            self.held.append(event)

    async def release(self, ended_at: float) -> None:
        self.ended_at = ended_at
        for event in self.held:  # events held meanwhile are appended, and sent in turn
            await self.emit(event)
        self.held.clear()
        self.released.set()


@dataclass
class AnswerAhead:
    """An answer under way for a draft, not yet heard."""

    speech_end: float
    """The draft's last voiced moment: the turn it answers ends there."""
    question: str
    events: HeldEvents
    task: asyncio.Task[None]
    reply: Reply
    timings: dict[str, float]
    """The answer's own timings: the turn's are added when it is taken."""
    started: float = field(default_factory=time.perf_counter)


Answer = Callable[[str, dict[str, float], Reply, HeldEvents], Coroutine[Any, Any, None]]
"""Writes and speaks the answer to a question: ``(question, timings, reply, events)``."""


class AnswersAhead:
    """The answer begun for the open question (one at a time), and how many were dropped."""

    def __init__(self, answer: Answer, emit: Emit) -> None:
        self._answer = answer
        self._emit = emit
        self.current: AnswerAhead | None = None
        self._dropped = 0

    def begin(self, question: str, speech_end: float) -> None:
        reply, events = Reply(), HeldEvents(self._emit)
        timings: dict[str, float] = {}
        task = asyncio.create_task(self._answer(question, timings, reply, events))
        task.add_done_callback(lambda done: done.cancelled() or done.exception())
        self.current = AnswerAhead(speech_end, question, events, task, reply, timings)

    def drop(self) -> bool:
        """Stop the answer under way unheard; False when there was none."""
        if self.current is None:
            return False
        self.current.task.cancel()
        self.current = None
        self._dropped += 1
        return True

    def take(self, speech_end: float, timings: dict[str, float]) -> AnswerAhead | None:
        """The answer begun for the turn that ended at ``speech_end``, if any (one begun for
        other speech is dropped); ``timings`` gets how many were dropped on the way."""
        if self.current is not None and self.current.speech_end != speech_end:
            self.drop()
        taken, self.current = self.current, None
        if self._dropped:
            timings["answers_dropped"], self._dropped = self._dropped, 0
        return taken
