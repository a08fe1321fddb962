"""``create_app(settings)``: the FastAPI application, errors mapped to HTTP in one place."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lbrxvoicepro.config import Settings
from lbrxvoicepro.dataset.crypto import DecryptionError
from lbrxvoicepro.dataset.store import DatasetError
from lbrxvoicepro.errors import (
    AudioDecodeError,
    ConfigError,
    DocumentError,
    KnowledgeBaseError,
    LbrxError,
    LLMError,
    LLMUnavailable,
    ModelNotFound,
    SynthesisError,
)
from lbrxvoicepro.pipeline import VoicePipeline
from lbrxvoicepro.runtime import ModelManager
from lbrxvoicepro.server import (
    audio_routes,
    chat_routes,
    converse,
    dataset_routes,
    stream_transcribe,
)
from lbrxvoicepro.server.audio_routes import VoiceNotOffered
from lbrxvoicepro.server.auth import AuthError, Forbidden, KeyStore
from lbrxvoicepro.server.deps import ServerState, require
from lbrxvoicepro.server.limits import RateLimited, RateLimiter
from lbrxvoicepro.server.sessions import SessionStore

STATUS: list[tuple[type[LbrxError], int]] = [
    (AuthError, 401),
    (Forbidden, 403),
    (RateLimited, 429),
    (AudioDecodeError, 400),
    (DocumentError, 422),
    (SynthesisError, 422),
    (VoiceNotOffered, 422),
    (KnowledgeBaseError, 409),
    (DatasetError, 409),
    (DecryptionError, 409),
    (ModelNotFound, 503),
    (ConfigError, 503),
    (LLMUnavailable, 503),
    (LLMError, 502),
]


def create_app(settings: Settings, models: ModelManager | None = None) -> FastAPI:
    models = models or ModelManager(settings, freeze_after_load=True)
    app = FastAPI(
        title="lbrxVoicePro",
        version="0.1.0",
        description="Local voice AI: OpenAI-compatible audio and chat, knowledge bases, "
        "streaming transcription and voice conversation. See docs/server.md.",
    )
    app.state.lbrx = ServerState(
        settings=settings,
        models=models,
        pipeline=VoicePipeline(settings, models),
        keys=KeyStore(settings.server.keys_file),
        limiter=RateLimiter(settings.server),
        sessions=SessionStore(settings.server.redis_url, settings.server.session_ttl_s),
    )
    for router in (
        audio_routes.router,
        chat_routes.router,
        dataset_routes.router,
        stream_transcribe.router,
        converse.router,
    ):
        app.include_router(router)
    _add_errors(app)
    _add_metrics(app)
    app.add_middleware(BodyLimit, max_bytes=int(settings.server.max_upload_mb * 2**20))

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _add_errors(app: FastAPI) -> None:
    @app.exception_handler(LbrxError)
    async def lbrx_error(request: Request, error: LbrxError) -> JSONResponse:
        status = next((code for kind, code in STATUS if isinstance(error, kind)), 400)
        headers = {}
        if isinstance(error, RateLimited):
            headers["Retry-After"] = str(error.retry_after)
        if isinstance(error, LLMUnavailable):
            headers["Retry-After"] = "1"  # its process is already restarting
        if isinstance(error, AuthError):
            headers["WWW-Authenticate"] = "Bearer"
        body = {"error": {"message": str(error), "type": type(error).__name__}}
        return JSONResponse(body, status_code=status, headers=headers)


def _add_metrics(app: FastAPI) -> None:
    registry = CollectorRegistry()
    requests = Counter(
        "lbrx_requests", "HTTP requests", ["method", "route", "status"], registry=registry
    )
    latency = Histogram("lbrx_request_seconds", "HTTP latency", ["route"], registry=registry)

    @app.middleware("http")
    async def measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        requests.labels(request.method, route, str(response.status_code)).inc()
        latency.labels(route).observe(time.perf_counter() - started)
        return response

    @app.get("/metrics", tags=["ops"], dependencies=[Depends(require("admin"))])
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type="text/plain; version=0.0.4")


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413, declared length or not."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _too_large(self.max_bytes, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise _BodyTooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _BodyTooLarge:
            await _too_large(self.max_bytes, send)


class _BodyTooLarge(Exception):
    pass


async def _too_large(max_bytes: int, send: Send) -> None:
    response = JSONResponse(
        {"error": {"message": f"request body over {max_bytes} bytes", "type": "TooLarge"}},
        status_code=413,
    )
    await response({"type": "http"}, _nothing, send)  # type: ignore[arg-type]


async def _nothing() -> Message:
    return {"type": "http.disconnect"}
