"""What the LLM reads for an answer (passages, history, question), most of it read in early.

While the user still speaks, the passages found for the words so far are evaluated by the model
ahead of the question (``read_ahead``), and they stay in the turn's prompt, first and in the same
order; of the passages the whole question finds besides them, its best come after. When the
turn ends only those and the question's own tokens are new to the model: llama.cpp reuses the
longest prefix it has already evaluated.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from lbrxvoicepro.config import Settings
from lbrxvoicepro.kb.retriever import Hit
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
        self.llm_lock = threading.Lock()
        """Held while the LLM works for this conversation: a read-in (one at a time, never
        queued) or an answer being written (``write_answer``)."""
        self._held = threading.Event()
        """Set while recognition the answer waits for runs: a read-in stops at its next
        passage (on two cores it would only slow that recognition)."""
        self._state = threading.Lock()
        self._turn = 0
        self._read_in: list[Hit] = []
        """The passages read in for the turn under way, in prompt order."""
        self._prefix: list[ChatMessage] = []

    def prompt(self, question: str, history: Sequence[ChatMessage]) -> Prompt:
        """The turn's prompt: the passages read in while the user spoke, then those the whole
        question finds besides them (``_late``). What was read in stays until ``next_turn``: an
        answer begun on a draft is dropped if the user goes on, and the question goes on with
        it."""
        with self._state:
            read_in = list(self._read_in)
        return self._build(question, history, read_in + self._late(read_in, question))

    def _late(self, read_in: list[Hit], question: str) -> list[Hit]:
        """The question's passages that were not read in, in document order: each costs the
        LLM ~0.1-0.15 s on two cores once the turn has ended, so they are taken from the
        question's best ``conversation.late_passages``, and from the rest only while the
        prompt holds fewer than ``kb.top_k`` passages."""
        known = {hit.chunk.id for hit in read_in}
        best, wanted = self.settings.conversation.late_passages, self.settings.kb.top_k
        late: list[Hit] = []
        for rank, hit in enumerate(self._search(question)):
            if hit.chunk.id not in known and (rank < best or len(read_in) + len(late) < wanted):
                late.append(hit)
        return _in_document_order(late)

    def next_turn(self) -> None:
        """The turn has been answered: the next one reads in afresh."""
        with self._state:
            self._read_in, self._prefix = [], []
            self._turn += 1

    def hold(self) -> None:
        """Stop reading in at the next passage, and read nothing in until ``resume``."""
        self._held.set()

    def resume(self) -> None:
        self._held.clear()

    @property
    def busy(self) -> bool:
        """The LLM works for this conversation (a read-in, or an answer being written)."""
        return self.llm_lock.locked()

    def wait(self) -> None:
        """Until the LLM's work under way (if any) has stopped: a read-in after ``hold`` stops
        at the end of the passage it is reading, an answer dropped or interrupted at its next
        token. On two cores, Whisper beside llama.cpp slows both many times over (their
        threads spin waiting for each other): a 0.3 s draft took 2.7 s."""
        with self.llm_lock:
            pass

    def read_ahead(self, words_so_far: str, history: Sequence[ChatMessage]) -> bool:
        """Have the model evaluate the prompt for ``words_so_far`` up to the question (one
        token generated), keeping the passages read in so far first, one new passage at a
        time so that ``hold`` takes effect soon. False when nothing new was read in: the same
        prefix as before, another read-in under way, or held."""
        if not self.llm_lock.acquire(blocking=False):
            return False
        try:
            with self._state:
                turn, read_in, before = self._turn, self._read_in, self._prefix
            found = _in_document_order(self._search(words_so_far))
            room = max(0, 2 * self.settings.kb.top_k - len(read_in))
            hits = read_in + _besides(read_in, found)[:room]
            read = False
            for count in range(min(len(read_in) + 1, len(hits)), len(hits) + 1):
                prefix = self._build(words_so_far, history, hits[:count]).messages[:-1]
                if prefix == before:
                    continue
                if self._held.is_set():
                    break
                complete(self.models.chat_model(), prefix, 1, 0.0)
                before, read = prefix, True
                with self._state:
                    if self._turn != turn:  # the turn has been answered meanwhile
                        break
                    self._read_in, self._prefix = hits[:count], prefix
            return read
        finally:
            self.llm_lock.release()

    def _search(self, text: str) -> list[Hit]:
        """The best passages, best first."""
        if not self.kb:
            return []
        return self.models.knowledge_base(self.kb).search(text, self.settings.kb.top_k)

    def _build(self, question: str, history: Sequence[ChatMessage], hits: list[Hit]) -> Prompt:
        llm = self.settings.llm
        model = self.models.chat_model()
        return build_prompt(model, llm.system_prompt, question, hits, history, llm.max_tokens)


def _besides(kept: list[Hit], found: list[Hit]) -> list[Hit]:
    """The hits of ``found`` that are not among ``kept``."""
    known = {hit.chunk.id for hit in kept}
    return [hit for hit in found if hit.chunk.id not in known]


def _in_document_order(hits: list[Hit]) -> list[Hit]:
    """The same passages ranked differently would be a different prompt prefix."""
    return sorted(hits, key=lambda hit: hit.chunk.id)
