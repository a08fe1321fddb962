"""OpenAI-compatible chat completions (optionally grounded in a knowledge base), models, kb."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, HTTPException, Request, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from lbrxvoicepro.errors import LbrxError
from lbrxvoicepro.kb.base import NAME_PATTERN, knowledge_base_names
from lbrxvoicepro.llm import ChatMessage, astream
from lbrxvoicepro.llm.prompt import build_prompt, citation_list, ensure_fits
from lbrxvoicepro.llm.rag import ground
from lbrxvoicepro.server.auth import Principal
from lbrxvoicepro.server.deps import require, state_of
from lbrxvoicepro.server.inputs import Text, safe_filename

router = APIRouter(prefix="/v1", tags=["chat"])
User = Annotated[Principal, Depends(require("user"))]
Admin = Annotated[Principal, Depends(require("admin"))]


class Message(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: Text = Field(max_length=100_000)


class ChatRequest(BaseModel):
    model: str = Field("local", max_length=200)
    messages: list[Message] = Field(min_length=1, max_length=500)
    stream: bool = False
    max_tokens: int | None = Field(None, ge=1, le=8192, description="capped at llm.max_tokens")
    temperature: float | None = Field(None, ge=0, le=2)
    kb: str | None = Field(None, max_length=64, description="answer from this knowledge base")


@router.post("/chat/completions")
async def chat_completions(request: Request, body: ChatRequest, _: User):  # type: ignore[no-untyped-def]
    """Chat; with `kb`, the last user message is answered from that knowledge base."""
    state = state_of(request)
    llm = state.settings.llm
    model = await asyncio.to_thread(state.models.chat_model)
    max_tokens = min(body.max_tokens or llm.max_tokens, llm.max_tokens)  # the server's cap
    temperature = llm.temperature if body.temperature is None else body.temperature
    messages = [ChatMessage(m.role, m.content) for m in body.messages]
    await asyncio.to_thread(ensure_fits, model, messages, max_tokens)
    sources: list[str] = []
    grounding: dict[str, object] = {}
    deltas = None
    if body.kb is not None:
        if body.kb not in knowledge_base_names(state.settings.kb):
            raise HTTPException(404, f"no knowledge base named {body.kb!r}")
        kb = await asyncio.to_thread(state.models.knowledge_base, body.kb)
        question = messages[-1].content
        hits = await asyncio.to_thread(kb.search, question, state.settings.kb.top_k)
        prompt = build_prompt(model, llm.system_prompt, question, hits, messages[:-1], max_tokens)
        messages, sources = prompt.messages, citation_list(prompt.sources)
        if llm.grounding and prompt.sources:
            # The answer is checked whole before any of it goes out, streamed or not.
            written = "".join([d async for d in astream(model, messages, max_tokens, temperature)])
            grounded = await asyncio.to_thread(ground, question, prompt, written, llm)
            sources = citation_list(prompt.sources, grounded.citations)
            grounding = {"quoted": grounded.quoted, "reason": grounded.reason}
            deltas = _once(grounded.text)
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    if deltas is None:
        deltas = astream(model, messages, max_tokens, temperature)
    if not body.stream:
        text = "".join([d async for d in deltas])
        return {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": body.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "sources": sources,
            **({"grounding": grounding} if grounding else {}),
        }

    def event(delta: dict[str, str], finish: str | None = None) -> str:
        chunk = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": body.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

    async def events() -> AsyncIterator[str]:
        yield event({"role": "assistant"})
        try:
            async for delta in deltas:
                yield event({"content": delta})
        except LbrxError as error:
            # The status line has gone out: the failure travels as an error event (the openai
            # SDK raises it as an APIError) and the stream ends without [DONE].
            failure = {"error": {"message": str(error), "type": type(error).__name__}}
            yield f"data: {json.dumps(failure, ensure_ascii=False)}\n\n"
            return
        yield event({}, "stop")
        yield "data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


async def _once(text: str) -> AsyncIterator[str]:
    yield text


@router.get("/models")
async def list_models(request: Request, _: User) -> dict[str, object]:
    settings = state_of(request).settings
    names = [settings.asr.model, settings.tts.voice, settings.llm.model]
    return {
        "object": "list",
        "data": [{"id": name, "object": "model", "owned_by": "local"} for name in names],
    }


class QueryRequest(BaseModel):
    query: Text = Field(min_length=1, max_length=2000)
    k: int = Field(5, ge=1, le=100)


@router.get("/kb")
async def list_knowledge_bases(request: Request, _: User) -> dict[str, list[str]]:
    return {"knowledge_bases": knowledge_base_names(state_of(request).settings.kb)}


@router.post("/kb/{name}/query")
async def query_knowledge_base(
    request: Request, name: Annotated[str, Field(max_length=64)], body: QueryRequest, _: User
) -> dict[str, object]:
    state = state_of(request)
    if name not in knowledge_base_names(state.settings.kb):
        raise HTTPException(404, f"no knowledge base named {name!r}")
    kb = await asyncio.to_thread(state.models.knowledge_base, name)
    hits = await asyncio.to_thread(kb.search, body.query, body.k)
    return {
        "hits": [
            {
                "source": h.chunk.source,
                "location": h.chunk.location,
                "text": h.chunk.text,
                "score": h.score,
            }
            for h in hits
        ]
    }


@router.post("/kb/{name}/documents")
async def add_documents(
    request: Request,
    name: Annotated[str, Field(max_length=64)],
    files: Annotated[list[UploadFile], File(description="txt, md, html, pdf or docx")],
    _: Admin,
) -> dict[str, object]:
    """Add uploaded documents; each is kept under its file name (a new upload replaces it)."""
    state = state_of(request)
    if not NAME_PATTERN.match(name):
        raise HTTPException(422, "a knowledge base name is letters, digits, '_', '.', '-'")
    kb = await asyncio.to_thread(state.models.knowledge_base, name)
    folder = state.settings.kb.data_dir / "documents" / name
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for upload in files:
        path = folder / safe_filename(upload.filename, "document.txt")
        staging = path.with_name(f".{path.name}.upload")
        staging.write_bytes(await upload.read())
        staging.replace(path)
        paths.append(path)
    report = await asyncio.to_thread(kb.add, paths)
    return {
        "added": [{"source": Path(s).name, "chunks": n} for s, n in report.added],
        "skipped": [{"source": Path(s).name, "reason": r} for s, r in report.skipped],
        "failed": [{"source": Path(s).name, "reason": r} for s, r in report.failed],
    }
