"""The ``ChatModel`` protocol: messages in, text deltas out as they are generated."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence
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
) -> AsyncIterator[str]:
    """``model.stream`` off the event loop, one delta at a time."""
    deltas = model.stream(messages, max_tokens, temperature)
    done = object()
    while (delta := await asyncio.to_thread(next, deltas, done)) is not done:
        yield delta  # type: ignore[misc]


def complete(
    model: ChatModel, messages: Sequence[ChatMessage], max_tokens: int, temperature: float
) -> str:
    return "".join(model.stream(messages, max_tokens, temperature))
