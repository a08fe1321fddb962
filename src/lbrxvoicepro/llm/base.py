"""The ``ChatModel`` protocol: messages in, text deltas out as they are generated."""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
from collections.abc import AsyncGenerator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str


class ChatModel(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def context_tokens(self) -> int: ...

    def count_tokens(self, text: str) -> int: ...

    def stream(
        self, messages: Sequence[ChatMessage], max_tokens: int, temperature: float
    ) -> Iterator[str]:
        """Text deltas in order; joined, they are the whole answer."""
        ...


async def astream(
    model: ChatModel,
    messages: Sequence[ChatMessage],
    max_tokens: int,
    temperature: float,
    working: threading.Lock | None = None,
) -> AsyncGenerator[str, None]:
    """``model.stream`` in a worker thread, deltas handed to the event loop as they come.

    If the consumer stops early (a barge-in cancels it), the worker stops at the next delta and
    closes the model's stream there, so the model is free for the next answer at once. The
    worker holds ``working`` (if given) until then: others can wait for the model to be free.
    """
    loop = asyncio.get_running_loop()
    deltas: asyncio.Queue[str | Exception | None] = asyncio.Queue()
    stop = threading.Event()

    def hand_over(item: str | Exception | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is listening
            loop.call_soon_threadsafe(deltas.put_nowait, item)

    def produce() -> None:
        with working or contextlib.nullcontext():
            stream = model.stream(messages, max_tokens, temperature)
            try:
                for delta in stream:
                    hand_over(delta)
                    if stop.is_set():
                        break
                hand_over(None)
            except Exception as error:
                hand_over(error)
            finally:
                close = getattr(stream, "close", None)
                if close is not None:
                    close()

    loop.run_in_executor(None, produce)  # ends by itself after its last (or next) delta
    try:
        while (item := await deltas.get()) is not None:
            if isinstance(item, Exception):
                raise item
            yield item
    finally:
        stop.set()


def complete(
    model: ChatModel, messages: Sequence[ChatMessage], max_tokens: int, temperature: float
) -> str:
    return "".join(model.stream(messages, max_tokens, temperature))


SENTENCE_END = re.compile(r"[.!?…\n]")
MIN_REPEATED_WORDS = 3
"""A sentence this long said twice is a loop; shorter ones ("Tak.", "1.") may recur."""


def until_it_repeats(deltas: Iterable[str]) -> Iterator[str]:
    """``deltas`` until the answer starts to say again a sentence it has said: a small model
    caught in a loop ("I'm a student. I'm a student. …") then stops after saying it once,
    instead of repeating itself up to the token limit. Text that could be the start of a
    repeat is held back until it turns out not to be one (or dropped, when the answer ends
    there: a repeat cut short by the token limit)."""
    said: set[str] = set()
    sentence = held = ""
    for delta in deltas:
        ready = ""
        for char in delta:
            sentence, held = sentence + char, held + char
            if SENTENCE_END.match(char):
                key = _words(sentence)
                if len(key.split()) >= MIN_REPEATED_WORDS:
                    if key in said:
                        if ready:
                            yield ready
                        return
                    said.add(key)
                sentence, ready, held = "", ready + held, ""
        key = _words(sentence)
        if not key or not any(earlier.startswith(key) for earlier in said):
            ready, held = ready + held, ""
        if ready:
            yield ready


def _words(text: str) -> str:
    return " ".join(text.lower().split())
