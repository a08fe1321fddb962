"""The answer being written: the model's text cut into pieces the speaker can say at once.

The first clause is ready at its comma, then each sentence once the next has begun. With a
knowledge base and ``llm.grounding`` on, each piece is held to the passages before it is
shown or said (``llm.grounding.SpokenCheck``): the first that states what no passage holds
ends the answer, and if nothing was said yet, the best passage sentence is said, as a quote.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time

from lbrxvoicepro.config import Settings
from lbrxvoicepro.conversation.events import AnswerDelta, Emit, elapsed_ms
from lbrxvoicepro.llm import ChatModel, astream
from lbrxvoicepro.llm.grounding import Grounder, SpokenCheck
from lbrxvoicepro.llm.prompt import Prompt
from lbrxvoicepro.text.sentences import speakable

log = logging.getLogger(__name__)


async def write_answer(
    model: ChatModel,
    prompt: Prompt,
    question: str,
    settings: Settings,
    pieces: asyncio.Queue[str | None],
    timings: dict[str, float],
    emit: Emit,
    working: threading.Lock | None = None,
) -> None:
    """Stream the answer; hand each piece to the speaker as soon as it can be spoken. The
    queue always ends with None, even when the model failed. ``working`` is held while the
    model writes (``astream``)."""
    llm = settings.llm
    check = None
    if llm.grounding and prompt.sources:
        check = SpokenCheck(Grounder(), question, prompt.sources)
    started, text, spoken = time.perf_counter(), "", False
    first_clause = settings.conversation.first_clause
    deltas = astream(model, prompt.messages, llm.max_tokens, llm.temperature, working)
    try:
        async with contextlib.aclosing(deltas):  # an answer ended early frees the model now
            async for delta in deltas:
                timings.setdefault("llm_first_token_ms", elapsed_ms(started))
                if check is None:
                    await emit(AnswerDelta(delta))
                ready, text = speakable(text + delta, spoken or not first_clause)
                for piece in ready:
                    timings.setdefault("first_clause_ms", elapsed_ms(started))
                    if not await _hand_over(piece, check, pieces, emit):
                        return
                spoken = spoken or bool(ready)
        if text.strip():
            timings.setdefault("first_clause_ms", elapsed_ms(started))
            await _hand_over(text.strip(), check, pieces, emit)
    finally:
        pieces.put_nowait(None)


async def _hand_over(
    piece: str, check: SpokenCheck | None, pieces: asyncio.Queue[str | None], emit: Emit
) -> bool:
    """Give ``piece`` (or, when it fails the check before anything was said, the quote) to
    the speaker; False when the answer ends here."""
    going_on = True
    if check is not None:
        if why := check.refusal(piece):
            log.info("spoken answer ends before %r: %s", piece, why)
            if check.said:
                return False
            piece, going_on = check.quote(), False
        await emit(AnswerDelta(piece + " "))
    await pieces.put(piece)
    return going_on
