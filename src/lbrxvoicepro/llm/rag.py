"""Answer a question from a knowledge base: retrieve, build the prompt, stream the answer."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from lbrxvoicepro.config import LlmSettings
from lbrxvoicepro.kb.base import KnowledgeBase
from lbrxvoicepro.llm.base import ChatMessage, ChatModel
from lbrxvoicepro.llm.prompt import Prompt, build_prompt


def answer(
    question: str,
    model: ChatModel,
    settings: LlmSettings,
    kb: KnowledgeBase | None = None,
    top_k: int = 5,
    history: Sequence[ChatMessage] = (),
) -> tuple[Prompt, Iterator[str]]:
    """The prompt used (with its numbered sources) and the answer's text deltas."""
    hits = kb.search(question, top_k) if kb is not None else []
    prompt = build_prompt(
        model, settings.system_prompt, question, hits, history, settings.max_tokens
    )
    return prompt, model.stream(prompt.messages, settings.max_tokens, settings.temperature)
