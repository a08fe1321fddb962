"""Answer a question from a knowledge base: retrieve, build the prompt, stream or ground the
answer."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from lbrxvoicepro.config import LlmSettings
from lbrxvoicepro.kb.base import KnowledgeBase
from lbrxvoicepro.llm.base import ChatMessage, ChatModel
from lbrxvoicepro.llm.grounding import GroundedAnswer, Grounder
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


def grounded_answer(
    question: str,
    model: ChatModel,
    settings: LlmSettings,
    kb: KnowledgeBase,
    top_k: int = 5,
    history: Sequence[ChatMessage] = (),
) -> tuple[Prompt, GroundedAnswer]:
    """The whole answer, cited inline and checked against its passages (``llm.grounding``):
    it has to be complete before it can be checked, so it is not streamed."""
    prompt, deltas = answer(question, model, settings, kb, top_k, history)
    return prompt, ground(question, prompt, "".join(deltas), settings)


def ground(question: str, prompt: Prompt, text: str, settings: LlmSettings) -> GroundedAnswer:
    """The model's text held to the prompt's passages, or as written when grounding is off or
    there were no passages."""
    if not settings.grounding or not prompt.sources:
        return GroundedAnswer(text.strip(), [], False, text)
    return Grounder().ground(question, text, prompt.sources)
