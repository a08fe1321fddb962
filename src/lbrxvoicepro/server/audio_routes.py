"""OpenAI-compatible audio endpoints: transcriptions and speech."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import PlainTextResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from lbrxvoicepro.asr.formats import render
from lbrxvoicepro.audio import DecodeLimits, encode, load
from lbrxvoicepro.audio.tempo import change_speed
from lbrxvoicepro.config import Settings
from lbrxvoicepro.errors import AudioDecodeError, LbrxError
from lbrxvoicepro.server.auth import Principal
from lbrxvoicepro.server.deps import require, state_of
from lbrxvoicepro.server.inputs import Text, safe_filename
from lbrxvoicepro.types import Audio, Transcript

router = APIRouter(prefix="/v1/audio", tags=["audio"])
User = Annotated[Principal, Depends(require("user"))]
OPENAI_VOICES = {
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "fable",
    "nova",
    "onyx",
    "sage",
    "shimmer",
    "verse",
}
MEDIA_TYPES = {
    "wav": "audio/wav",
    "flac": "audio/flac",
    "mp3": "audio/mpeg",
    "opus": "audio/opus",
    "aac": "audio/aac",
    "pcm": "audio/pcm",
}


@router.post("/transcriptions")
async def transcriptions(
    request: Request,
    _: User,
    file: Annotated[UploadFile, File(description="Audio: wav, flac, mp3, ogg, opus, m4a, webm.")],
    model: Annotated[str, Form()] = "whisper-1",
    language: Annotated[str | None, Form(max_length=8)] = None,
    prompt: Annotated[str | None, Form(max_length=2000)] = None,
    response_format: Annotated[
        Literal["json", "text", "srt", "vtt", "verbose_json"], Form()
    ] = "json",
    temperature: Annotated[float, Form(ge=0, le=1)] = 0.0,
    timestamp_granularities: Annotated[
        list[Literal["word", "segment"]] | None, Form(alias="timestamp_granularities[]")
    ] = None,
) -> Response:
    """Transcribe an uploaded file (OpenAI's `model` names map to the configured Whisper)."""
    state = state_of(request)
    state.decoder.check()  # at capacity: 503 now, not a transcript past the latency budget
    data = await file.read()
    name = safe_filename(file.filename, "upload")
    try:
        audio = await asyncio.to_thread(load, data, 16000, upload_limits(state.settings))
    except AudioDecodeError as error:
        raise type(error)(name, error.reason) from error
    transcript = await state.pipeline.transcribe(audio, language or None)
    words = "word" in (timestamp_granularities or [])
    if response_format == "json":
        return Response(
            json.dumps({"text": transcript.text}, ensure_ascii=False), media_type="application/json"
        )
    if response_format == "verbose_json":
        return Response(
            json.dumps(_verbose(transcript, words), ensure_ascii=False),
            media_type="application/json",
        )
    text = transcript.text if response_format == "text" else render(transcript, response_format)
    return PlainTextResponse(text)


def upload_limits(settings: Settings) -> DecodeLimits:
    server = settings.server
    return DecodeLimits(server.max_audio_s, server.max_decoded_mb)


def _verbose(transcript: Transcript, words: bool) -> dict[str, object]:
    body: dict[str, object] = {
        "task": "transcribe",
        "language": transcript.language,
        "duration": round(transcript.duration, 3),
        "text": transcript.text,
        "segments": [
            {
                "id": number,
                "start": round(s.start, 3),
                "end": round(s.end, 3),
                "text": s.text,
                "avg_logprob": s.avg_logprob,
                "no_speech_prob": s.no_speech_prob,
                "compression_ratio": s.compression_ratio,
            }
            for number, s in enumerate(transcript.segments)
        ],
    }
    if words:
        body["words"] = [
            {
                "word": w.text.strip(),
                "start": round(w.start, 3),
                "end": round(w.end, 3),
                "probability": round(w.probability, 4),
            }
            for s in transcript.segments
            for w in s.words
        ]
    return body


class SpeechRequest(BaseModel):
    model: str = Field("tts-1", max_length=200)
    input: Text = Field(min_length=1, max_length=4096)
    voice: str = Field(
        "",
        max_length=500,
        description="an OpenAI voice name (means the default voice) or a voice spec, "
        "e.g. piper:en_US-joe-medium",
    )
    response_format: Literal["wav", "flac", "mp3", "opus", "aac", "pcm"] = "mp3"
    speed: float = Field(1.0, ge=0.25, le=4.0, description="0.25 to 4; the pitch is kept")


@router.post("/speech", response_class=StreamingResponse)
async def speech(request: Request, body: SpeechRequest, _: User) -> StreamingResponse:
    """Speak text; the audio streams sentence by sentence (pcm: raw 16-bit mono)."""
    state = state_of(request)
    voice = allowed_voice(state.settings, body.voice)
    synthesizer = await asyncio.to_thread(state.models.synthesizer, voice)
    chunks = synthesizer.astream(body.input)
    try:
        first = await anext(chunks)
    except StopAsyncIteration as error:
        raise HTTPException(422, "nothing speakable in the input") from error
    rate = first.sample_rate

    def paced(samples: np.ndarray) -> np.ndarray:
        return change_speed(Audio(samples, rate), body.speed).samples

    async def audio() -> AsyncIterator[bytes]:
        if body.response_format == "pcm":
            yield _pcm(await asyncio.to_thread(paced, first.samples))
            async for chunk in chunks:
                yield _pcm(await asyncio.to_thread(paced, chunk.samples))
            return
        pieces = [first.samples] + [chunk.samples async for chunk in chunks]
        whole = await asyncio.to_thread(paced, np.concatenate(pieces))
        yield await asyncio.to_thread(_encoded, Audio(whole, rate), body.response_format)

    headers = {"X-Sample-Rate": str(rate)}
    return StreamingResponse(audio(), media_type=MEDIA_TYPES[body.response_format], headers=headers)


class VoiceNotOffered(LbrxError):
    """A client asked for a voice this server does not offer (HTTP 422)."""


def allowed_voice(settings: Settings, requested: str) -> str | None:
    """The voice to use: the default for "" and OpenAI's names, else one from server.voices."""
    if not requested or requested in OPENAI_VOICES or requested == settings.tts.voice:
        return None
    if requested not in settings.server.voices:
        allowed = ", ".join(dict.fromkeys([settings.tts.voice, *settings.server.voices]))
        raise VoiceNotOffered(f"voice {requested!r} is not offered here; choose one of {allowed}")
    return requested


def _pcm(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


def _encoded(audio: Audio, format: str) -> bytes:
    buffer = io.BytesIO()
    encode(audio, buffer, format)
    return buffer.getvalue()
