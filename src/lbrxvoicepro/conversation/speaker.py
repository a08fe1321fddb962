"""Speaking an answer: each piece synthesized as it comes, its audio released in frames at
playback pace, so that a barge-in leaves at most ``LEAD_S`` of it queued."""

from __future__ import annotations

import asyncio
import time

from lbrxvoicepro.conversation.ahead import HeldEvents
from lbrxvoicepro.conversation.events import AnswerAudio, elapsed_ms
from lbrxvoicepro.conversation.reply import Reply
from lbrxvoicepro.llm.grounding import CITATION
from lbrxvoicepro.tts import Synthesizer

FRAME_S = 0.1
"""Answer audio is emitted in frames this long."""
LEAD_S = 0.15
"""How far ahead of playback audio is released: the most a barge-in can leave queued."""


async def speak(
    synthesizer: Synthesizer,
    pieces: asyncio.Queue[str | None],
    reply: Reply,
    events: HeldEvents,
    timings: dict[str, float],
    playing: asyncio.Event | None,
) -> None:
    """Synthesize piece by piece until None, once the turn has ended (``events`` released).
    With ``playing`` (real time), audio is released at playback pace and waits while the event
    is cleared (someone speaks over the answer); without, as fast as it is made."""
    sent_s = 0.0
    while (piece := await pieces.get()) is not None:
        sentence = CITATION.sub("", piece).strip()
        if not any(char.isalnum() for char in sentence):
            continue
        started = time.perf_counter()
        audio = await asyncio.to_thread(synthesizer.synthesize_sync, sentence)
        timings.setdefault("first_tts_ms", elapsed_ms(started))
        rate, samples = audio.sample_rate, audio.samples
        reply.add(sentence, len(samples) / rate)
        frame = int(FRAME_S * rate)
        for first in range(0, len(samples), frame):
            if reply.playback_start is None:
                reply.playback_start = time.perf_counter()
                timings["first_audio_ms"] = round(
                    (reply.playback_start - events.ended_at) * 1000, 1
                )
            while playing is not None:
                await playing.wait()
                delay = reply.playback_start + sent_s - LEAD_S - time.perf_counter()
                if delay <= 0:
                    break
                await asyncio.sleep(delay)
            chunk = samples[first : first + frame]
            await events(AnswerAudio(chunk, rate, len(reply.sentences) - 1))
            sent_s += len(chunk) / rate
