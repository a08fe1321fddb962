"""While the user speaks, the conversation reads the prompt for the words so far into the LLM
(``Prompter.read_ahead``); the turn's prompt keeps those passages first, in the same order, and
adds what the whole question finds besides them, so it begins with what was read in."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lbrxvoicepro.config import Settings
from lbrxvoicepro.conversation.prompter import Prompter
from lbrxvoicepro.kb.base import expand_paths
from lbrxvoicepro.llm.prompt import build_prompt
from lbrxvoicepro.runtime import ModelManager

SO_FAR = "Jak dojechać"
QUESTION = "Jak dojechać na Wawel?"


def with_passages(settings: Settings, folder: Path, late_passages: int = 3) -> Settings:
    """A top_k of 3; ``late_passages`` 3 (the default 2 is tested on its own)."""
    conversation = settings.conversation.model_copy(update={"late_passages": late_passages})
    kb = settings.kb.model_copy(update={"data_dir": folder, "top_k": 3})
    return settings.model_copy(update={"kb": kb, "conversation": conversation})


def test_the_turns_prompt_begins_with_the_prompt_read_in_while_the_user_spoke(
    settings: Settings, tmp_path: Path
) -> None:
    settings = with_passages(settings, tmp_path)
    models = ModelManager(settings)
    try:
        kb = models.knowledge_base("guide")
        assert kb.add(expand_paths([Path("examples/kb")])[0]).added
        so_far, whole = (
            sorted(kb.search(text, 3), key=lambda h: h.chunk.id) for text in (SO_FAR, QUESTION)
        )
        added = [hit for hit in whole if hit.chunk.id not in {h.chunk.id for h in so_far}]
        assert added and len(added) < len(whole), "the two find different, overlapping passages"
        prompter = Prompter(models, settings, "guide")
        assert prompter.read_ahead(SO_FAR, [])
        assert not prompter.read_ahead(SO_FAR, []), "the same prefix is read in once"
        prompt = prompter.prompt(QUESTION, [])
        assert [h.chunk.id for h in prompt.sources] == [h.chunk.id for h in so_far + added]
        read_in = build_prompt(
            models.chat_model(),
            settings.llm.system_prompt,
            SO_FAR,
            so_far,
            [],
            settings.llm.max_tokens,
        )
        assert prompt.messages[0].content.startswith(read_in.messages[0].content)
        assert prompt.messages[-1].content == QUESTION
        assert prompter.prompt(QUESTION, []) == prompt, "kept until the turn is answered"
        prompter.next_turn()
        assert prompter.read_ahead(SO_FAR, []), "the next turn reads in afresh"
    finally:
        models.unload()


def test_passages_not_read_in_join_the_prompt_only_from_the_questions_best(
    settings: Settings, tmp_path: Path
) -> None:
    """Each passage the partials did not read in costs the LLM ~0.1-0.15 s once the turn has
    ended: it joins the prompt if it is among the question's best ``late_passages``, or while
    the prompt holds fewer than ``kb.top_k`` passages."""
    models = ModelManager(with_passages(settings, tmp_path))
    try:
        kb = models.knowledge_base("guide")
        assert kb.add(expand_paths([Path("examples/kb")])[0]).added
        so_far = {hit.chunk.id for hit in kb.search(SO_FAR, 3)}
        ranked = [hit.chunk.id for hit in kb.search(QUESTION, 3)]
        late = [rank for rank, chunk in enumerate(ranked) if chunk not in so_far]
        assert late and max(late) >= 1, "the question finds a passage of its own below its best"
        for best in (0, 1, 3):
            prompter = Prompter(models, with_passages(settings, tmp_path, best), "guide")
            assert prompter.read_ahead(SO_FAR, [])
            sources = [hit.chunk.id for hit in prompter.prompt(QUESTION, []).sources]
            assert sources[: len(so_far)] == sorted(so_far)
            assert sources[len(so_far) :] == sorted(ranked[r] for r in late if r < best)
        unread = Prompter(models, with_passages(settings, tmp_path, 0), "guide")
        assert len(unread.prompt(QUESTION, []).sources) == 3, "nothing read in: top_k all the same"
    finally:
        models.unload()


def test_a_held_prompter_reads_nothing_in_until_resumed(settings: Settings, tmp_path: Path) -> None:
    """While the question's own recognition runs (a draft at a pause, or the turn's), reading in
    would only slow it on two cores: the engine holds the prompter then."""
    settings = with_passages(settings, tmp_path)
    models = ModelManager(settings)
    try:
        assert models.knowledge_base("guide").add(expand_paths([Path("examples/kb")])[0]).added
        prompter = Prompter(models, settings, "guide")
        prompter.hold()
        assert not prompter.read_ahead(SO_FAR, [])
        assert prompter.prompt(QUESTION, []).messages[-1].content == QUESTION
        prompter.resume()
        assert prompter.read_ahead(SO_FAR, [])
    finally:
        models.unload()


def test_a_question_is_recognised_only_once_the_passage_being_read_in_is_done(
    settings: Settings, tmp_path: Path
) -> None:
    """On two cores Whisper beside a read-in slows both many times over (a 0.3 s draft took
    2.7 s): the engine starts no partial while the prompter is ``busy``, and recognises a
    question after ``hold`` and ``wait``."""
    settings = with_passages(settings, tmp_path)
    models = ModelManager(settings)
    try:
        assert models.knowledge_base("guide").add(expand_paths([Path("examples/kb")])[0]).added
        models.chat_model()
        prompter = Prompter(models, settings, "guide")
        assert not prompter.busy
        with ThreadPoolExecutor(max_workers=1) as pool:
            reading = pool.submit(prompter.read_ahead, QUESTION, [])
            while not prompter.busy and not reading.done():
                time.sleep(0.001)
            assert prompter.busy, "a read-in evaluates passages for a while"
            prompter.hold()
            prompter.wait()
            assert not prompter.busy
            reading.result(timeout=60)  # held: it stopped at its next passage, or before one
    finally:
        models.unload()
