"""WebSocket ``/v1/stream/transcribe``: PCM16 16 kHz mono in, partial and final transcripts out.

Client → server: binary frames of little-endian 16-bit samples (any size), then the text
message ``{"type": "end"}``; ``?partials=0`` turns partial transcripts off. Server → client,
JSON: ``partial`` (the utterance so far, about once a second while someone speaks), ``final``
(one per utterance, with word timings on the stream's clock), and ``done`` after ``end``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.types import Message

from lbrxvoicepro.audio.sources import pcm16_to_float
from lbrxvoicepro.server.deps import ServerState, state_of
from lbrxvoicepro.server.ws import admitted
from lbrxvoicepro.types import Audio, SpeechChunk, Transcript
from lbrxvoicepro.vad.segmenter import StreamSegmenter

router = APIRouter()
PARTIAL_EVERY_S = 1.0


@router.websocket("/v1/stream/transcribe")
async def stream_transcribe(websocket: WebSocket) -> None:
    state = state_of(websocket)
    async with admitted(websocket, "user") as caller:
        if caller is None:
            return
        params = websocket.query_params
        # Partials are drafts: greedy decoding without word timings, about twice as fast.
        draft = state.settings.asr.model_copy(update={"beam_size": 1, "word_timestamps": False})
        stream = TranscriptionStream(
            websocket,
            await asyncio.to_thread(state.models.transcriber),
            await asyncio.to_thread(state.models.transcriber, draft),
            StreamSegmenter(await asyncio.to_thread(state.models.vad), state.settings.vad),
            params.get("language") or None,
            params.get("partials", "1") != "0",
            state,
        )
        with contextlib.suppress(WebSocketDisconnect):
            await stream.run()


class TranscriptionStream:
    """Receiving (VAD only) never waits for Whisper: a worker transcribes finals first, and a
    partial only when no final is waiting, always of the newest audio (stale ones are skipped)."""

    def __init__(
        self, websocket, transcriber, drafter, segmenter, language, partials, state
    ) -> None:  # type: ignore[no-untyped-def]
        self.state: ServerState = state
        self.backlog_s = 0.0
        """Speech queued for Whisper and not yet transcribed."""
        self.websocket = websocket
        self.transcriber = transcriber
        self.drafter = drafter
        self.segmenter: StreamSegmenter = segmenter
        self.language = language
        self.partials = partials
        self.finals: asyncio.Queue[SpeechChunk | None] = asyncio.Queue()
        self.partial_audio: Audio | None = None
        self.work = asyncio.Event()

    async def run(self) -> None:
        worker = asyncio.create_task(self.transcribe())
        try:
            await self.receive()
            await worker
            await self.websocket.send_json({"type": "done", "duration": self.segmenter.position})
            await self.websocket.close()
        finally:
            worker.cancel()

    async def receive(self) -> None:
        last_partial = 0.0
        while True:
            message = await receive_within(self.websocket, self.state)
            if message["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(message.get("code", 1000))
            if message.get("bytes") is not None:
                for chunk in await feed(self.state, self.segmenter, message["bytes"]):
                    self.finals.put_nowait(chunk)
                    self.backlog_s += chunk.span.duration
                    self.partial_audio, last_partial = None, self.segmenter.position
                if self.backlog_s > self.state.settings.server.max_stream_backlog_s:
                    reason = f"{self.backlog_s:.0f} s of speech wait for transcription; slow down"
                    await self.websocket.close(code=1013, reason=reason)
                    raise WebSocketDisconnect(1013)
                if self.partials and self.segmenter.position - last_partial >= PARTIAL_EVERY_S:
                    last_partial = self.segmenter.position
                    self.partial_audio = await pending(self.state, self.segmenter)
                self.work.set()
            elif (control := _control(message.get("text") or "{}")) is None:
                await self.websocket.close(code=1007, reason='text frames are {"type": "end"}')
                raise WebSocketDisconnect(1007)
            elif control == "end":
                for chunk in self.segmenter.flush():
                    self.finals.put_nowait(chunk)
                self.finals.put_nowait(None)
                self.work.set()
                return

    async def transcribe(self) -> None:
        while True:
            await self.work.wait()
            self.work.clear()
            while not self.finals.empty():
                chunk = self.finals.get_nowait()
                if chunk is None:
                    return
                await send_final(self.websocket, self.transcriber.transcribe, chunk, self.language)
                self.backlog_s -= chunk.span.duration
            audio, self.partial_audio = self.partial_audio, None
            if audio is not None:
                partial = await asyncio.to_thread(self.drafter.transcribe, audio, self.language)
                if self.finals.empty():
                    await self.websocket.send_json({"type": "partial", "text": partial.text})
                self.work.set()


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


async def feed(state: ServerState, segmenter: StreamSegmenter, pcm: bytes) -> list[SpeechChunk]:
    """One PCM16 frame through Silero VAD, in the server's frame pool: never on the event loop."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(state.frame_work, lambda: segmenter.feed(pcm16_to_float(pcm)))


async def pending(state: ServerState, segmenter: StreamSegmenter) -> Audio | None:
    """The utterance so far, joined in the frame pool (a long one is a large copy)."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(state.frame_work, segmenter.pending)


async def send_final(
    websocket: WebSocket, transcribe, chunk: SpeechChunk, language: str | None
) -> Transcript:  # type: ignore[no-untyped-def]
    transcript: Transcript = await asyncio.to_thread(transcribe, chunk.audio, language)
    offset = chunk.span.start
    await websocket.send_json(
        {
            "type": "final",
            "start": round(chunk.span.start, 3),
            "end": round(chunk.span.end, 3),
            "text": transcript.text,
            "words": [
                {
                    "word": w.text.strip(),
                    "start": round(w.start + offset, 3),
                    "end": round(w.end + offset, 3),
                }
                for s in transcript.segments
                for w in s.words
            ],
        }
    )
    return transcript
