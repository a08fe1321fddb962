"""WebSocket ``/v1/stream/transcribe``: PCM16 16 kHz mono in, partial and final transcripts out.

Client → server: binary frames of little-endian 16-bit samples (any size), then the text
message ``{"type": "end"}``. Server → client, JSON: ``partial`` (the utterance so far, about
once a second while someone speaks), ``final`` (one per utterance, with word timings on the
stream's clock), and ``done`` after ``end``.
"""

from __future__ import annotations

import asyncio
import json

import numpy as np
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from lbrxvoicepro.server.deps import state_of
from lbrxvoicepro.server.ws import accept_or_refuse
from lbrxvoicepro.types import SpeechChunk, Transcript
from lbrxvoicepro.vad.segmenter import StreamSegmenter

router = APIRouter()
PARTIAL_EVERY_S = 1.0


@router.websocket("/v1/stream/transcribe")
async def stream_transcribe(websocket: WebSocket) -> None:
    state = state_of(websocket)
    if not await accept_or_refuse(websocket, "user"):
        return
    language = websocket.query_params.get("language") or None
    transcriber = await asyncio.to_thread(state.models.transcriber)
    segmenter = StreamSegmenter(await asyncio.to_thread(state.models.vad), state.settings.vad)
    last_partial = 0.0
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("bytes") is not None:
                samples = pcm16_to_float(message["bytes"])
                chunks = await asyncio.to_thread(segmenter.feed, samples)
                for chunk in chunks:
                    await send_final(websocket, transcriber.transcribe, chunk, language)
                pending = segmenter.pending()
                if chunks or pending is None:
                    last_partial = segmenter.position
                elif segmenter.position - last_partial >= PARTIAL_EVERY_S:
                    last_partial = segmenter.position
                    partial = await asyncio.to_thread(transcriber.transcribe, pending, language)
                    await websocket.send_json({"type": "partial", "text": partial.text})
            elif json.loads(message.get("text") or "{}").get("type") == "end":
                for chunk in await asyncio.to_thread(segmenter.flush):
                    await send_final(websocket, transcriber.transcribe, chunk, language)
                await websocket.send_json({"type": "done", "duration": segmenter.position})
                await websocket.close()
                return
    except WebSocketDisconnect:
        return


def pcm16_to_float(data: bytes) -> np.ndarray:
    usable = len(data) - len(data) % 2
    return np.frombuffer(data[:usable], dtype="<i2").astype(np.float32) / 32768.0


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
