"""A spoken answer from a knowledge base states no number or name its passages do not hold:
the answer writer checks each piece before the speaker gets it (``llm.grounding``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lbrxvoicepro.config import Settings
from lbrxvoicepro.conversation.events import AnswerDelta, Event
from lbrxvoicepro.conversation.prompter import Prompter
from lbrxvoicepro.conversation.writer import write_answer
from lbrxvoicepro.kb.base import expand_paths
from lbrxvoicepro.llm.grounding import Grounder
from lbrxvoicepro.runtime import ModelManager

QUESTIONS = [
    # Asked so, greedy Gemma 3 270M answered "10 godzin." and "1234567890…" (a phone number
    # made up) and told of 1944-1945 by the dragon's den.
    "Ile trwa podróż pociągiem z lotniska do Dworca Głównego?",
    "Jaki jest numer telefonu kwiaciarni?",
    "Co stoi przed Smoczą Jamą?",
    "Kto przyjmuje zamówienia w kwiaciarni?",
]


async def spoken(models: ModelManager, settings: Settings, question: str) -> tuple[str, str]:
    """What the speaker would say, and what the client is shown, for ``question``."""
    prompt = Prompter(models, settings, "guide").prompt(question, [])
    pieces: asyncio.Queue[str | None] = asyncio.Queue()
    shown: list[str] = []

    async def emit(event: Event) -> None:
        if isinstance(event, AnswerDelta):
            shown.append(event.text)

    model = models.chat_model()
    await write_answer(model, prompt, question, settings, pieces, {}, emit)
    said = []
    while (piece := pieces.get_nowait()) is not None:
        said.append(piece)
    return " ".join(said), "".join(shown).strip()


def test_spoken_answers_state_only_what_their_passages_hold(
    settings: Settings, tmp_path: Path
) -> None:
    settings = settings.model_copy(
        update={
            "kb": settings.kb.model_copy(update={"data_dir": tmp_path}),
            "llm": settings.llm.model_copy(update={"temperature": 0.0}),
        }
    )
    models = ModelManager(settings)
    try:
        kb = models.knowledge_base("guide")
        assert kb.add(expand_paths([Path("examples/kb")])[0]).added
        grounder = Grounder()
        for question in QUESTIONS:
            said, shown = asyncio.run(spoken(models, settings, question))
            assert said and shown == said, (said, shown)
            passages = kb.search(question, settings.kb.top_k)
            assert grounder.unsupported_facts(question, said, passages) == [], (question, said)
    finally:
        models.unload()
