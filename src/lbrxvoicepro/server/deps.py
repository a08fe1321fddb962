"""Shared server state and the dependencies every endpoint uses (auth, rate limits)."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from fastapi import Request, WebSocket

from lbrxvoicepro.asr.scheduler import DecodeScheduler
from lbrxvoicepro.config import Settings
from lbrxvoicepro.pipeline import VoicePipeline
from lbrxvoicepro.runtime import ModelManager
from lbrxvoicepro.server.auth import (
    FORWARDING,
    AuthError,
    Forbidden,
    KeyStore,
    Principal,
    Role,
    verify_token,
)
from lbrxvoicepro.server.limits import RateLimiter, StreamSlots
from lbrxvoicepro.server.sessions import SessionStore


@dataclass
class ServerState:
    settings: Settings
    models: ModelManager
    pipeline: VoicePipeline
    keys: KeyStore
    limiter: RateLimiter
    sessions: SessionStore
    streams: StreamSlots
    decoder: DecodeScheduler
    """Every stream's recognition, decoded in shared batches (asr/scheduler.py)."""
    frame_work: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(
            max_workers=os.cpu_count() or 1, thread_name_prefix="lbrx-frames"
        )
    )
    """Per-frame work of the streams (Silero VAD): off the event loop, and never queued
    behind Whisper in the default pool. One thread per core: a frame takes a millisecond,
    and more threads only compete with the event loop for the cores."""


def state_of(connection: Request | WebSocket) -> ServerState:
    return connection.app.state.lbrx  # type: ignore[no-any-return]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def authenticate(state: ServerState, connection: Request | WebSocket) -> Principal:
    """The caller, from ``Authorization: Bearer``, ``X-API-Key`` or (WebSocket) ``?token=``."""
    if not state.settings.server.auth:
        return Principal("anonymous", "admin", "anonymous")
    header = connection.headers.get("authorization", "")
    credential = connection.headers.get("x-api-key") or (
        header[7:].strip() if header.lower().startswith("bearer ") else ""
    )
    if not credential and isinstance(connection, WebSocket):
        credential = connection.query_params.get("token", "")
    if not credential:
        raise AuthError("missing credentials: send 'Authorization: Bearer TOKEN' or 'X-API-Key'")
    if credential.startswith("lbrx_"):
        return state.keys.verify(credential)
    return verify_token(state.settings.server, credential)


def require(role: Role) -> Callable[[Request], Awaitable[Principal]]:
    """Dependency: rate-limit the address, authenticate, check the role, rate-limit the caller."""

    async def dependency(request: Request) -> Principal:
        return check(state_of(request), request, role)

    return dependency


def check(state: ServerState, connection: Request | WebSocket, role: Role) -> Principal:
    forwarded = _forwarding(state, connection)
    if forwarded is not None and forwarded.allows(role):
        return forwarded
    address = connection.client.host if connection.client else "unknown"
    state.limiter.check_address(address)
    principal = authenticate(state, connection)
    if not principal.allows(role):
        raise Forbidden(f"this needs the {role!r} role; the caller has {principal.role!r}")
    state.limiter.check_caller(principal.subject)
    return principal


def _forwarding(state: ServerState, connection: Request | WebSocket) -> Principal | None:
    """An API process's call to this worker (a valid token for ``FORWARDING``), else None."""
    header = connection.headers.get("authorization", "")
    if not (state.settings.server.auth and header.lower().startswith("bearer ")):
        return None
    try:
        principal = verify_token(state.settings.server, header[7:].strip())
    except AuthError:
        return None
    return principal if principal.subject == FORWARDING else None
