"""``create_app(settings)``: the FastAPI application, errors mapped to HTTP in one place."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from http import HTTPStatus
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lbrxvoicepro.asr.scheduler import Busy, DecodeScheduler
from lbrxvoicepro.config import Settings
from lbrxvoicepro.dataset.crypto import DecryptionError, cipher_for
from lbrxvoicepro.dataset.store import DatasetError
from lbrxvoicepro.errors import (
    AudioDecodeError,
    AudioTooLarge,
    ConfigError,
    DocumentError,
    KnowledgeBaseError,
    LbrxError,
    LLMError,
    LLMUnavailable,
    ModelNotFound,
    PromptTooLong,
    SynthesisError,
    UnknownLanguage,
)
from lbrxvoicepro.pipeline import VoicePipeline
from lbrxvoicepro.runtime import ModelManager
from lbrxvoicepro.runtime.remote import WorkerError
from lbrxvoicepro.server import (
    audio_routes,
    chat_routes,
    converse,
    dataset_routes,
    pages,
    stream_transcribe,
    studio_routes,
)
from lbrxvoicepro.server.audio_routes import VoiceNotOffered
from lbrxvoicepro.server.auth import AuthError, Forbidden, KeyStore
from lbrxvoicepro.server.deps import ServerState, require
from lbrxvoicepro.server.limits import RateLimited, RateLimiter, StreamSlots
from lbrxvoicepro.server.metrics import add_metrics
from lbrxvoicepro.server.sessions import SessionStore

_log = logging.getLogger(__name__)
STATUS: list[tuple[type[LbrxError], int]] = [
    (AuthError, 401),
    (Forbidden, 403),
    (RateLimited, 429),
    (AudioTooLarge, 413),
    (AudioDecodeError, 400),
    (DocumentError, 422),
    (SynthesisError, 422),
    (VoiceNotOffered, 422),
    (UnknownLanguage, 422),
    (KnowledgeBaseError, 409),
    (DatasetError, 409),
    (DecryptionError, 409),
    (ModelNotFound, 503),
    (ConfigError, 503),
    (LLMUnavailable, 503),
    (Busy, 503),
    (PromptTooLong, 400),
    (LLMError, 502),
    (WorkerError, 502),
]


Role = Literal["all", "api", "asr", "tts", "llm"]
WORKER_ROUTES: dict[str, set[str]] = {
    "asr": {"/v1/audio/transcriptions", "/v1/stream/transcribe"},
    "tts": {"/v1/audio/speech"},
    "llm": {"/v1/chat/completions", "/v1/models"},
}
"""What a worker role serves (besides /healthz, /metrics and the docs); ``api`` and ``all``
serve everything, forwarding recognition and synthesis when ``asr.remote_url`` and
``tts.remote_url`` name workers (docs/deploy.md)."""


def create_app(
    settings: Settings, models: ModelManager | None = None, role: Role = "all"
) -> FastAPI:
    cipher_for(settings.dataset)  # a malformed at-rest key stops the start, not each request
    models = models or ModelManager(settings, freeze_after_load=True)
    app = FastAPI(
        title="lbrxVoicePro",
        version="0.1.0",
        description="Local voice AI: OpenAI-compatible audio and chat, knowledge bases, "
        "streaming transcription and voice conversation. See docs/server.md.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    _add_docs(app, settings.server.auth)
    app.state.lbrx = ServerState(
        settings=settings,
        models=models,
        pipeline=VoicePipeline(settings, models),
        keys=KeyStore(settings.server.keys_file),
        limiter=RateLimiter(settings.server),
        sessions=SessionStore(settings.server.redis_url, settings.server.session_ttl_s),
        streams=StreamSlots(settings.server.max_streams_per_caller),
        decoder=DecodeScheduler(
            models.transcriber,
            settings.asr,
            batch_size=settings.server.decode_batch_size,
            latency_budget_s=settings.server.latency_budget_s,
            adaptive=settings.server.adaptive_quality,
        ),
    )
    for router in (
        audio_routes.router,
        chat_routes.router,
        dataset_routes.router,
        studio_routes.router,
        stream_transcribe.router,
        converse.router,
        pages.router,
    ):
        app.include_router(_for_role(router, role))
    _add_errors(app, settings)
    add_metrics(app, app.state.lbrx.decoder)
    app.add_middleware(
        BodyLimit,
        max_bytes=int(settings.server.max_upload_mb * 2**20),
        body_timeout_s=settings.server.body_timeout_s,
    )

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _for_role(router: APIRouter, role: Role) -> APIRouter:
    """The router, or for a worker role only the routes that role serves."""
    if role not in WORKER_ROUTES:
        return router
    serving = APIRouter()
    serving.routes.extend(r for r in router.routes if getattr(r, "path", "") in WORKER_ROUTES[role])
    return serving


DOCS_ASSETS = "/docs-assets"


def _add_docs(app: FastAPI, auth: bool) -> None:
    """The schema and Swagger UI, its scripts served from the installed ``swagger-ui-bundle``
    (not a CDN: the docs work offline); ``/redoc`` shows the same page. With auth on, the
    schema and the pages need a ``user`` credential like the API."""
    import swagger_ui_bundle
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    needs = [Depends(require("user"))] if auth else []
    app.mount(DOCS_ASSETS, StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), "docs")

    @app.get("/openapi.json", include_in_schema=False, dependencies=needs)
    async def schema() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=needs)
    @app.get("/redoc", include_in_schema=False, dependencies=needs)
    async def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=app.title,
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
        )


def _add_errors(app: FastAPI, settings: Settings) -> None:
    """Every error, the project's and the framework's, as ``{"error": {"message", "type"}}``;
    the server's own folders are cut out of messages (a client learns no server paths)."""
    folders = sorted(
        {str(p.resolve()) for p in server_folders(settings)}
        | {str(p) for p in server_folders(settings)},
        key=len,
        reverse=True,
    )

    def failure(
        status: int, message: str, kind: str, headers: Mapping[str, str] | None = None
    ) -> JSONResponse:
        for folder in folders:
            message = message.replace(folder + "/", "").replace(folder, ".")
        body = {"error": {"message": message, "type": kind}}
        return JSONResponse(body, status_code=status, headers=dict(headers or {}))

    @app.exception_handler(LbrxError)
    async def lbrx_error(request: Request, error: LbrxError) -> JSONResponse:
        status = next((code for kind, code in STATUS if isinstance(error, kind)), 400)
        headers = {}
        if isinstance(error, RateLimited | Busy):
            headers["Retry-After"] = str(error.retry_after)
        if isinstance(error, LLMUnavailable):
            headers["Retry-After"] = "1"  # its process is already restarting
        if isinstance(error, AuthError):
            headers["WWW-Authenticate"] = "Bearer"
        return failure(status, str(error), type(error).__name__, headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        kind = HTTPStatus(error.status_code).phrase.replace(" ", "")
        return failure(error.status_code, str(error.detail), kind, error.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        _log.error("%s %s failed", request.method, request.url.path, exc_info=error)
        return failure(500, "internal error (logged on the server)", "InternalError")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}"
            for e in error.errors()
        )
        return failure(422, problems or "invalid request", "InvalidRequest")


def server_folders(settings: Settings) -> list[Path]:
    return [
        settings.server.datasets_dir,
        settings.kb.data_dir,
        settings.cache_dir,
        settings.dataset.data_dir,
        settings.server.keys_file.parent,
    ]


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413, declared length or not.

    A body without a declared length (chunked) is read up to the limit before the app sees
    it, so the refusal is a clean 413 rather than a parse error halfway through; a client
    that sends its body slower than ``body_timeout_s`` between chunks gets 408.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, body_timeout_s: float) -> None:
        self.app, self.max_bytes, self.body_timeout_s = app, max_bytes, body_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _refuse(413, f"request body over {self.max_bytes} bytes", "TooLarge", send)
            return
        messages: list[Message] = []
        seen = 0
        while True:
            try:
                message = await asyncio.wait_for(receive(), self.body_timeout_s)
            except TimeoutError:
                await _refuse(408, "the request body stopped arriving", "RequestTimeout", send)
                return
            messages.append(message)
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                await _refuse(413, f"request body over {self.max_bytes} bytes", "TooLarge", send)
                return
            if message["type"] != "http.request" or not message.get("more_body"):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


async def _refuse(status: int, message: str, kind: str, send: Send) -> None:
    response = JSONResponse({"error": {"message": message, "type": kind}}, status_code=status)
    await response({"type": "http"}, _nothing, send)  # type: ignore[arg-type]


async def _nothing() -> Message:
    return {"type": "http.disconnect"}
