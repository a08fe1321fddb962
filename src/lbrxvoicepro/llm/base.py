"""The ``ChatModel`` protocol: messages in, text deltas out as they are generated."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncGenerator, Iterator, Sequence
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
    model: ChatModel, messages: Sequence[ChatMessage], max_tokens: int, temperature: float
) -> AsyncGenerator[str, None]:
    """``model.stream`` in a worker thread, deltas handed to the event loop as they come.

    If the consumer stops early (a barge-in cancels it), the worker stops at the next delta and
    closes the model's stream there, so the model is free for the next answer at once.
    """
    loop = asyncio.get_running_loop()
    deltas: asyncio.Queue[str | Exception | None] = asyncio.Queue()
    stop = threading.Event()

    def hand_over(item: str | Exception | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is listening
            loop.call_soon_threadsafe(deltas.put_nowait, item)

    def produce() -> None:
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
