"""Retrieved passages into a prompt with numbered citations, within the context window."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lbrxvoicepro.errors import PromptTooLong
from lbrxvoicepro.kb.retriever import Hit
from lbrxvoicepro.llm.base import ChatMessage, ChatModel

MAX_CHARS_PER_TOKEN = 8
"""More characters than this per token of context cannot fit (a token rarely spans more):
such a prompt is refused by its length alone, before any tokenizing."""


@dataclass(frozen=True)
class Prompt:
    messages: list[ChatMessage]
    sources: list[Hit]
    """The passages given to the model, in citation order: ``[1]`` is ``sources[0]``."""


def build_prompt(
    model: ChatModel,
    system: str,
    question: str,
    hits: Sequence[Hit],
    history: Sequence[ChatMessage] = (),
    answer_tokens: int = 256,
) -> Prompt:
    """System prompt, the best passages that fit, recent history that fits, the question.

    Passages come first in the budget (they carry the answer); history fills what is left,
    newest first.
    """
    budget = model.context_tokens - answer_tokens - model.count_tokens(system + question) - 32
    sources: list[Hit] = []
    blocks: list[str] = []
    for hit in hits:
        block = f"[{len(sources) + 1}] ({_cite(hit)}) {hit.chunk.text}"
        cost = model.count_tokens(block) + 2
        if cost > budget:
            break
        budget -= cost
        sources.append(hit)
        blocks.append(block)
    kept: list[ChatMessage] = []
    for message in reversed(history):
        cost = model.count_tokens(message.content) + 4
        if cost > budget:
            break
        budget -= cost
        kept.insert(0, message)
    context = "\n\n".join(blocks)
    system_text = f"{system}\n\nFragmenty / Passages:\n{context}" if blocks else system
    return Prompt(
        [ChatMessage("system", system_text), *kept, ChatMessage("user", question)], sources
    )


def ensure_fits(model: ChatModel, messages: Sequence[ChatMessage], answer_tokens: int) -> None:
    """Refuse, cheaply, messages that leave no room for the answer in the context window."""
    budget = model.context_tokens - answer_tokens
    characters = sum(len(m.content) for m in messages)
    if characters > budget * MAX_CHARS_PER_TOKEN:
        raise PromptTooLong(
            f"{characters} characters of messages cannot fit in {model.name}'s "
            f"{model.context_tokens}-token context with {answer_tokens} tokens for the answer"
        )
    tokens = sum(model.count_tokens(m.content) + 4 for m in messages)
    if tokens > budget:
        raise PromptTooLong(
            f"{tokens} tokens of messages do not fit in {model.name}'s "
            f"{model.context_tokens}-token context with {answer_tokens} tokens for the answer"
        )


def _cite(hit: Hit) -> str:
    name = hit.chunk.source.rsplit("/", 1)[-1]
    return f"{name}, {hit.chunk.location}"


def citation_list(sources: Sequence[Hit], cited: Sequence[int] | None = None) -> list[str]:
    """Lines like ``[1] guide.pdf, page 3`` for the answer's footer: the sources ``cited``
    (numbered from 1), or all of them."""
    numbers = range(1, len(sources) + 1) if cited is None else cited
    return [f"[{number}] {_cite(sources[number - 1])}" for number in numbers]
