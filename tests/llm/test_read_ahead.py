"""While the user speaks, the conversation reads the prompt for the words so far into the LLM
(``Prompter.read_ahead``): when the turn ends, the whole question's prompt begins with what was
read in, although retrieval ranked the same passages differently for it."""

from __future__ import annotations

from pathlib import Path

from lbrxvoicepro.config import Settings
from lbrxvoicepro.conversation.prompter import Prompter
from lbrxvoicepro.kb.base import expand_paths
from lbrxvoicepro.runtime import ModelManager

SO_FAR = "Jak dojechać"
QUESTION = "Jak dojechać na Wawel?"


def test_the_prompt_read_in_for_the_words_so_far_is_the_whole_questions_prefix(
    settings: Settings, tmp_path: Path
) -> None:
    settings = settings.model_copy(
        update={"kb": settings.kb.model_copy(update={"data_dir": tmp_path})}
    )
    models = ModelManager(settings)
    try:
        kb = models.knowledge_base("guide")
        assert kb.add(expand_paths([Path("examples/kb")])[0]).added
        ranked = [[hit.chunk.id for hit in kb.search(text, 5)] for text in (SO_FAR, QUESTION)]
        assert ranked[0] != ranked[1] and sorted(ranked[0]) == sorted(ranked[1])
        prompter = Prompter(models, settings, "guide")
        assert prompter.read_ahead(SO_FAR, [])
        assert not prompter.read_ahead(SO_FAR, []), "the same prefix is read in once"
        whole = prompter.prompt(QUESTION, [])
        assert [hit.chunk.id for hit in whole.sources] == sorted(ranked[1])
        assert not prompter.read_ahead(QUESTION, []), "the question's prefix was read in already"
        assert whole.messages[-1].content == QUESTION
    finally:
        models.unload()
