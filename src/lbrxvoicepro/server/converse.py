"""WebSocket ``/v1/stream/converse``: a full-duplex voice conversation with barge-in.

Client → server: binary PCM16 16 kHz mono frames, continuously (silence included), at the pace
they are recorded. Server → client: JSON events — ``session``, ``speech_started``,
``speech_stopped``, ``transcript``, ``llm_delta``, ``audio`` (followed by one binary frame of
PCM16 at the announced sample rate), ``barge_in``, ``turn`` (timings), ``error`` — see
docs/server.md. The turn loop is the conversation engine's; this module only translates.
"""

from __future__ import annotations

import asyncio
import json

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from lbrxvoicepro.conversation import (
    AnswerAudio,
    ConversationEngine,
    ConversationSetup,
    Event,
    wire,
)
from lbrxvoicepro.errors import KnowledgeBaseError
from lbrxvoicepro.kb.base import knowledge_base_names
from lbrxvoicepro.server.audio_routes import VoiceNotOffered, allowed_voice
from lbrxvoicepro.server.auth import Principal
from lbrxvoicepro.server.deps import ServerState, state_of
from lbrxvoicepro.server.sessions import Session
from lbrxvoicepro.server.stream_transcribe import receive_within
from lbrxvoicepro.server.ws import admitted

router = APIRouter()


@router.websocket("/v1/stream/converse")
async def converse(websocket: WebSocket) -> None:
    async with admitted(websocket, "user") as caller:
        if caller is not None:
            await _converse(websocket, state_of(websocket), caller)


async def _converse(websocket: WebSocket, state: ServerState, caller: Principal) -> None:
    params = websocket.query_params
    session = None
    if params.get("session"):
        session = await asyncio.to_thread(state.sessions.load, params["session"])
    if session is None or session.owner != caller.subject:  # another's is as good as unknown
        session = Session(
            voice=params.get("voice", ""),
            kb=params.get("kb", ""),
            language=params.get("language", ""),
            owner=caller.subject,
        )
        await asyncio.to_thread(state.sessions.save, session)  # the announced id resumes
    try:
        allowed_voice(state.settings, session.voice)
        if session.kb and session.kb not in knowledge_base_names(state.settings.kb):
            raise KnowledgeBaseError(f"no knowledge base named {session.kb!r}")
    except (VoiceNotOffered, KnowledgeBaseError) as error:
        await websocket.close(code=4422, reason=str(error)[:120])
        return
    sending = asyncio.Lock()

    async def send(event: Event | dict[str, object]) -> None:
        body = event if isinstance(event, dict) else wire(event)
        async with sending:  # an audio event and its binary frame stay together
            await websocket.send_text(json.dumps(body, ensure_ascii=False))
            if isinstance(event, AnswerAudio):
                await websocket.send_bytes(event.pcm16())

    async def save() -> None:
        await asyncio.to_thread(state.sessions.save, session)

    await send({"type": "session", "id": session.id})
    engine = ConversationEngine(
        state.models,
        state.settings,
        send,
        setup=ConversationSetup(session.language, session.voice, session.kb),
        history=session.history,
        on_history=save,
        frame_executor=state.frame_work,
    )
    async with engine:
        try:
            while True:
                message = await receive_within(websocket, state)
                if message["type"] == "websocket.disconnect":
                    break
                data = message.get("bytes")
                if data is None:  # text frames carry nothing for this endpoint
                    await websocket.close(code=1003, reason="send binary PCM16 frames")
                    break
                await engine.feed(data)
        except WebSocketDisconnect:
            pass
