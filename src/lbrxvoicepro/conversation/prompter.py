"""What the LLM reads for an answer (the passages found for the question, the history, the
question), and reading most of it in early: while the user still speaks, the passages found
for the words so far are evaluated by the model, so that when the turn ends only the question's
own tokens are new to it (llama.cpp reuses the longest prefix it has already evaluated)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from lbrxvoicepro.config import Settings
from lbrxvoicepro.llm import ChatMessage
from lbrxvoicepro.llm.base import complete
from lbrxvoicepro.llm.prompt import Prompt, build_prompt
from lbrxvoicepro.runtime import ModelManager


class Prompter:
    """Sync and thread-safe; one per conversation."""

    def __init__(self, models: ModelManager, settings: Settings, kb: str) -> None:
        self.models = models
        self.settings = settings
        self.kb = kb
        self._lock = threading.Lock()
        self._read_in: list[ChatMessage] = []
        """The prompt prefix last evaluated ahead of its question."""

    def prompt(self, question: str, history: Sequence[ChatMessage]) -> Prompt:
        """Retrieval for ``question``, then the prompt that fits the model's context, its
        passages in the order of the documents: the words so far and the whole question often
        find the same passages ranked differently, and only the same order is the same prefix."""
        hits = []
        if self.kb:
            found = self.models.knowledge_base(self.kb).search(question, self.settings.kb.top_k)
            hits = sorted(found, key=lambda hit: hit.chunk.id)
        llm = self.settings.llm
        model = self.models.chat_model()
        return build_prompt(model, llm.system_prompt, question, hits, history, llm.max_tokens)

    def read_ahead(self, words_so_far: str, history: Sequence[ChatMessage]) -> bool:
        """Have the model evaluate the prompt for ``words_so_far`` up to the question (one
        token generated); False when that prefix was the last one read in, or one is being
        read in now."""
        if not self._lock.acquire(blocking=False):
            return False
        try:
            prefix = self.prompt(words_so_far, history).messages[:-1]
            if prefix == self._read_in:
                return False
            complete(self.models.chat_model(), prefix, 1, 0.0)
            self._read_in = prefix
            return True
        finally:
            self._lock.release()
