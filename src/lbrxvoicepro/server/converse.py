"""WebSocket ``/v1/stream/converse``: a full-duplex voice conversation with barge-in.

Client → server: binary PCM16 16 kHz mono frames, continuously (silence included), at the pace
they are recorded. Server → client: JSON events — ``session``, ``speech_started``,
``speech_stopped``, ``transcript``, ``llm_delta``, ``audio`` (followed by one binary frame of
PCM16 at the announced sample rate), ``barge_in``, ``turn`` (timings) — see docs/server.md.

The answer is spoken while the LLM is still writing: its first clause at once, then sentence by
sentence (``text.sentences.speakable``). Audio goes out at playback pace (a little ahead), so
when the user starts speaking the server stops sending at once and knows how much was actually
heard: the history keeps only that.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field

import numpy as np
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from lbrxvoicepro.errors import KnowledgeBaseError, LbrxError
from lbrxvoicepro.kb.base import knowledge_base_names
from lbrxvoicepro.llm import ChatMessage, astream
from lbrxvoicepro.llm.prompt import build_prompt
from lbrxvoicepro.server.audio_routes import VoiceNotOffered, allowed_voice
from lbrxvoicepro.server.auth import Principal
from lbrxvoicepro.server.deps import ServerState, state_of
from lbrxvoicepro.server.sessions import Session
from lbrxvoicepro.server.stream_transcribe import feed, pcm16_to_float, receive_within
from lbrxvoicepro.server.ws import admitted
from lbrxvoicepro.text.sentences import speakable
from lbrxvoicepro.types import SpeechChunk
from lbrxvoicepro.vad.segmenter import StreamSegmenter

router = APIRouter()
FRAME_S = 0.1
"""Assistant audio goes out in frames this long."""
LEAD_S = 0.15
"""How far ahead of playback the server may send: the most audio a barge-in can leave queued."""


@dataclass
class Reply:
    """What the assistant has said in one turn, on the playback clock."""

    sentences: list[str] = field(default_factory=list)
    starts: list[float] = field(default_factory=list)
    """Where each sentence's audio starts in the reply, in seconds."""
    durations: list[float] = field(default_factory=list)
    playback_start: float | None = None
    """``time.perf_counter()`` when the first audio was sent (its playback start)."""

    def spoken_text(self, now: float) -> str:
        """The sentences heard by ``now``; a sentence cut short keeps its heard share of words."""
        if self.playback_start is None:
            return ""
        heard = now - self.playback_start
        spoken = []
        for sentence, start, duration in zip(
            self.sentences, self.starts, self.durations, strict=True
        ):
            share = (heard - start) / duration if duration else 1.0
            if share >= 1.0:
                spoken.append(sentence)
            else:
                words = sentence.split()[: max(0, int(len(sentence.split()) * share))]
                if words:
                    spoken.append(" ".join(words) + "…")
                break
        return " ".join(spoken)


class Conversation:
    def __init__(self, websocket: WebSocket, state: ServerState, session: Session) -> None:
        self.websocket = websocket
        self.state = state
        self.session = session
        self.utterances: asyncio.Queue[tuple[SpeechChunk, float]] = asyncio.Queue()
        self.reply_task: asyncio.Task[None] | None = None
        self.reply: Reply | None = None
        self._send_lock = asyncio.Lock()

    async def send(self, event: dict[str, object], audio: bytes | None = None) -> None:
        async with self._send_lock:
            await self.websocket.send_text(json.dumps(event, ensure_ascii=False))
            if audio is not None:
                await self.websocket.send_bytes(audio)

    async def run(self) -> None:
        vad = await asyncio.to_thread(self.state.models.vad)
        segmenter = StreamSegmenter(vad, self.state.settings.vad)
        padding = self.state.settings.vad.padding_ms / 1000
        turns = asyncio.create_task(self.take_turns())
        was_speaking = False
        try:
            while True:
                message = await receive_within(self.websocket, self.state)
                if message["type"] == "websocket.disconnect":
                    break
                data = message.get("bytes")
                if data is None:  # text frames carry nothing for this endpoint
                    await self.websocket.close(code=1003, reason="send binary PCM16 frames")
                    break
                chunks = await feed(self.state, segmenter, pcm16_to_float(data))
                now = time.perf_counter()
                if segmenter.in_speech and not was_speaking:
                    await self.send({"type": "speech_started", "at": round(segmenter.position, 3)})
                    await self.barge_in()
                was_speaking = segmenter.in_speech
                for chunk in chunks:
                    speech_end = chunk.span.end - padding
                    await self.send({"type": "speech_stopped", "at": round(speech_end, 3)})
                    ended_at = now - (segmenter.position - speech_end)
                    await self.utterances.put((chunk, ended_at))
        except WebSocketDisconnect:
            pass
        finally:
            turns.cancel()
            await self.barge_in(notify=False)
            with contextlib.suppress(asyncio.CancelledError):
                await turns

    async def barge_in(self, notify: bool = True) -> None:
        """The user spoke: stop the assistant now and keep only what was heard."""
        task, reply = self.reply_task, self.reply
        if task is None or task.done() or reply is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        spoken = reply.spoken_text(time.perf_counter())
        if spoken:
            self.session.history.append(ChatMessage("assistant", spoken))
        await asyncio.to_thread(self.state.sessions.save, self.session)
        if notify:
            await self.send({"type": "barge_in", "spoken": spoken})

    async def take_turns(self) -> None:
        transcriber = await asyncio.to_thread(self.state.models.transcriber)
        language = self.session.language or None
        while True:
            chunk, ended_at = await self.utterances.get()
            started = time.perf_counter()
            transcript = await asyncio.to_thread(transcriber.transcribe, chunk.audio, language)
            timings = {"asr_ms": _ms(started)}
            await self.send({"type": "transcript", "text": transcript.text})
            if not transcript.text.strip():
                continue
            self.reply = Reply()
            self.reply_task = asyncio.create_task(
                self.answer(transcript.text, ended_at, timings, self.reply)
            )
            try:
                await self.reply_task
            except asyncio.CancelledError:
                pass
            except LbrxError as error:  # e.g. the LLM's process crashed: this answer is lost
                await self.send(
                    {"type": "error", "message": str(error), "kind": type(error).__name__}
                )

    async def answer(
        self, question: str, ended_at: float, timings: dict[str, float], reply: Reply
    ) -> None:
        settings, models = self.state.settings, self.state.models
        model = await asyncio.to_thread(models.chat_model)
        started = time.perf_counter()
        hits = []
        if self.session.kb:
            kb = await asyncio.to_thread(models.knowledge_base, self.session.kb)
            hits = await asyncio.to_thread(kb.search, question, settings.kb.top_k)
        timings["retrieval_ms"] = _ms(started)
        history = list(self.session.history)
        self.session.history.append(ChatMessage("user", question))
        prompt = build_prompt(
            model, settings.llm.system_prompt, question, hits, history, settings.llm.max_tokens
        )
        sentences: asyncio.Queue[str | None] = asyncio.Queue()
        writer = asyncio.create_task(self.write(model, prompt.messages, sentences, timings))
        try:
            await self.speak(sentences, reply, ended_at, timings)
            await writer
        finally:
            writer.cancel()
        self.session.history.append(ChatMessage("assistant", " ".join(reply.sentences)))
        await asyncio.to_thread(self.state.sessions.save, self.session)
        await self.send({"type": "turn", "timings": timings})

    async def write(
        self,
        model: object,
        messages: list[ChatMessage],
        sentences: asyncio.Queue[str | None],
        timings: dict[str, float],
    ) -> None:
        """Stream the LLM; hand each piece to the speaker as soon as it can be spoken."""
        llm = self.state.settings.llm
        started, text, spoken = time.perf_counter(), "", False
        try:
            async for delta in astream(model, messages, llm.max_tokens, llm.temperature):  # type: ignore[arg-type]
                timings.setdefault("llm_first_token_ms", _ms(started))
                await self.send({"type": "llm_delta", "text": delta})
                ready, text = speakable(text + delta, spoken)
                for piece in ready:
                    await sentences.put(piece)
                spoken = spoken or bool(ready)
            if text.strip():
                await sentences.put(text.strip())
        finally:
            sentences.put_nowait(None)  # the speaker ends even when the LLM failed

    async def speak(
        self,
        sentences: asyncio.Queue[str | None],
        reply: Reply,
        ended_at: float,
        timings: dict[str, float],
    ) -> None:
        """Synthesize sentence by sentence; send at playback pace, LEAD_S ahead at most."""
        synthesizer = await asyncio.to_thread(
            self.state.models.synthesizer, self.session.voice or None
        )
        sent_s = 0.0
        while (sentence := await sentences.get()) is not None:
            if not any(c.isalnum() for c in sentence):
                continue
            audio = await asyncio.to_thread(synthesizer.synthesize_sync, sentence)
            rate, samples = audio.sample_rate, audio.samples
            reply.sentences.append(sentence)
            reply.starts.append(sent_s)
            reply.durations.append(len(samples) / rate)
            frame = int(FRAME_S * rate)
            for first in range(0, len(samples), frame):
                piece = samples[first : first + frame]
                if reply.playback_start is None:
                    reply.playback_start = time.perf_counter()
                    timings["first_audio_ms"] = round((reply.playback_start - ended_at) * 1000, 1)
                delay = reply.playback_start + sent_s - LEAD_S - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                pcm = (np.clip(piece, -1, 1) * 32767).astype("<i2").tobytes()
                event = {"type": "audio", "sample_rate": rate, "sentence": len(reply.sentences) - 1}
                await self.send(event, pcm)
                sent_s += len(piece) / rate


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
    conversation = Conversation(websocket, state, session)
    await conversation.send({"type": "session", "id": session.id})
    await conversation.run()


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)
