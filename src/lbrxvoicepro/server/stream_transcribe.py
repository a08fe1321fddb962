"""WebSocket ``/v1/stream/transcribe``: PCM16 16 kHz mono in, partial and final transcripts out.

Client → server: binary frames of little-endian 16-bit samples (any size), then the text
message ``{"type": "end"}``; ``?partials=0`` turns partial transcripts off. Server → client,
JSON: ``partial`` (the utterance so far, about once a second while someone speaks), ``final``
(one per utterance, with word timings on the stream's clock and the settings that decoded it),
and ``done`` after ``end``.

All streams share the server's decoder (``asr/scheduler.py``): each utterance, once it ends,
is decoded in a batch with what other streams are waiting for; partials go last and are the
first thing dropped under load.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from concurrent.futures import Future
from dataclasses import dataclass

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.types import Message

from lbrxvoicepro.asr.scheduler import Decoded, DecodeScheduler, Urgency
from lbrxvoicepro.audio.sources import pcm16_to_float
from lbrxvoicepro.server.deps import ServerState, state_of
from lbrxvoicepro.server.ws import admitted
from lbrxvoicepro.types import SpeechChunk
from lbrxvoicepro.vad.segmenter import StreamSegmenter

router = APIRouter()
PARTIAL_EVERY_S = 1.0


@router.websocket("/v1/stream/transcribe")
async def stream_transcribe(websocket: WebSocket) -> None:
    state = state_of(websocket)
    async with admitted(websocket, "user", stream=True) as caller:
        if caller is None:
            return
        params = websocket.query_params
        stream = TranscriptionStream(
            websocket,
            state,
            StreamSegmenter(await asyncio.to_thread(state.models.vad), state.settings.vad),
            params.get("language") or None,
            params.get("partials", "1") != "0",
        )
        with contextlib.suppress(WebSocketDisconnect):
            try:
                await stream.run()
            finally:
                stream.cancel()


@dataclass
class _Utterance:
    chunk: SpeechChunk
    decoded: Future[Decoded]


class TranscriptionStream:
    """Receiving (VAD only) never waits for Whisper: finals and partials go to the shared
    decoder, and finals are sent in order as they come back."""

    def __init__(
        self,
        websocket: WebSocket,
        state: ServerState,
        segmenter: StreamSegmenter,
        language: str | None,
        partials: bool,
    ) -> None:
        self.websocket = websocket
        self.state = state
        self.decoder: DecodeScheduler = state.decoder
        self.segmenter = segmenter
        self.language = language
        self.partials = partials
        self.outstanding: list[_Utterance] = []
        self.finals: asyncio.Queue[_Utterance | None] = asyncio.Queue()
        self.utterances_closed = 0
        self.partial: tuple[Future[Decoded], asyncio.Task[None]] | None = None
        """The draft being decoded and the task that sends it."""
        self.sending = asyncio.Lock()

    async def run(self) -> None:
        sender = asyncio.create_task(self.send_finals())
        try:
            await self.receive()
            await sender
            await self.send({"type": "done", "duration": self.segmenter.position})
            await self.websocket.close()
        finally:
            sender.cancel()

    def cancel(self) -> None:
        """The client is gone or done: what it queued and nobody will read is dropped."""
        for utterance in self.outstanding:
            utterance.decoded.cancel()
        if self.partial is not None:
            for pending in self.partial:
                pending.cancel()

    async def receive(self) -> None:
        last_partial = 0.0
        while True:
            message = await receive_within(self.websocket, self.state)
            if message["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(message.get("code", 1000))
            if message.get("bytes") is not None:
                for chunk in await self.feed(message["bytes"]):
                    self.close_utterance(chunk)
                    last_partial = self.segmenter.position
                if (backlog := self.backlog_s()) > self.state.settings.server.max_stream_backlog_s:
                    reason = f"{backlog:.0f} s of speech wait for transcription; slow down"
                    await self.websocket.close(code=1013, reason=reason)
                    raise WebSocketDisconnect(1013)
                if self.partials and self.segmenter.position - last_partial >= PARTIAL_EVERY_S:
                    last_partial = self.segmenter.position
                    await self.ask_partial()
            elif (control := _control(message.get("text") or "{}")) is None:
                await self.websocket.close(code=1007, reason='text frames are {"type": "end"}')
                raise WebSocketDisconnect(1007)
            elif control == "end":
                for chunk in self.segmenter.flush():
                    self.close_utterance(chunk)
                self.finals.put_nowait(None)
                return

    async def feed(self, pcm: bytes) -> list[SpeechChunk]:
        """One PCM16 frame through Silero VAD, in the server's frame pool (never on the event
        loop): the utterances it closed."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self.state.frame_work, lambda: self.segmenter.feed(pcm16_to_float(pcm))
        )

    def close_utterance(self, chunk: SpeechChunk) -> None:
        decoded = self.decoder.submit(chunk.audio, self.language, Urgency.FINAL)
        utterance = _Utterance(chunk, decoded)
        self.outstanding.append(utterance)
        self.utterances_closed += 1
        self.finals.put_nowait(utterance)

    def backlog_s(self) -> float:
        """Speech sent to the decoder and not yet decoded (the decoded is forgotten)."""
        self.outstanding = [u for u in self.outstanding if not u.decoded.done()]
        return sum(u.chunk.span.duration for u in self.outstanding)

    async def ask_partial(self) -> None:
        """A draft of the utterance so far, unless one is still being decoded."""
        if self.partial is not None and not self.partial[1].done():
            return
        audio = await asyncio.get_running_loop().run_in_executor(
            self.state.frame_work, self.segmenter.pending
        )
        if audio is None:
            return
        draft = self.decoder.submit(audio, self.language, Urgency.PARTIAL)
        self.partial = draft, asyncio.create_task(self.send_partial(draft, self.utterances_closed))

    async def send_partial(self, draft: Future[Decoded], utterance: int) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            text = (await asyncio.wrap_future(draft)).transcript.text.strip()
            if self.utterances_closed == utterance and text:
                await self.send({"type": "partial", "text": text})

    async def send_finals(self) -> None:
        while (utterance := await self.finals.get()) is not None:
            decoded = await asyncio.wrap_future(utterance.decoded)
            await self.send(final_message(utterance.chunk, decoded))

    async def send(self, message: dict[str, object]) -> None:
        async with self.sending:
            await self.websocket.send_json(message)


def final_message(chunk: SpeechChunk, decoded: Decoded) -> dict[str, object]:
    """An utterance's final: text, words on the stream's clock, and how it was decoded."""
    offset = chunk.span.start
    return {
        "type": "final",
        "start": round(chunk.span.start, 3),
        "end": round(chunk.span.end, 3),
        "text": decoded.transcript.text,
        "words": [
            {
                "word": w.text.strip(),
                "start": round(w.start + offset, 3),
                "end": round(w.end + offset, 3),
            }
            for s in decoded.transcript.segments
            for w in s.words
        ],
        "decoding": {
            "beam_size": decoded.beam_size,
            "level": decoded.level,
            "batch": decoded.batch,
        },
    }


def _control(text: str) -> str | None:
    """The ``type`` of a control message; None when it is not a JSON object."""
    try:
        message = json.loads(text)
    except ValueError:
        return None
    return str(message.get("type", "")) if isinstance(message, dict) else None


async def receive_within(websocket: WebSocket, state: ServerState) -> Message:
    """The next message; a client silent for ``server.idle_timeout_s`` is closed (1001)."""
    try:
        return await asyncio.wait_for(websocket.receive(), state.settings.server.idle_timeout_s)
    except TimeoutError:
        await websocket.close(code=1001, reason="idle for too long")
        raise WebSocketDisconnect(1001) from None
