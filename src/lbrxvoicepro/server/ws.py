"""WebSocket admission: the same auth and rate limits as REST, plus a cap on each caller's
open streams; refusals are close codes with the reason."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import WebSocket

from lbrxvoicepro.asr.scheduler import Busy
from lbrxvoicepro.server.auth import AuthError, Forbidden, Principal, Role
from lbrxvoicepro.server.deps import check, state_of
from lbrxvoicepro.server.limits import RateLimited, TooManyStreams

CLOSE_CODES = {
    AuthError: 4401,
    Forbidden: 4403,
    RateLimited: 4429,
    TooManyStreams: 4429,
    Busy: 1013,
}


@contextlib.asynccontextmanager
async def admitted(
    websocket: WebSocket, role: Role, *, stream: bool = False
) -> AsyncIterator[Principal | None]:
    """Accept the connection and yield the caller, holding one of its stream slots (and, for a
    ``stream`` of speech to recognise, a place at the shared decoder) until the block ends; if
    it may not proceed, close it with 4401/4403/4429 (or 1013: the server is at capacity)
    and why, and yield None.

    The handshake is accepted first so that the client sees the close code and reason (a
    refused handshake is only an HTTP 403, whatever the cause).
    """
    await websocket.accept()
    state = state_of(websocket)
    principal: Principal | None = None
    try:
        principal = check(state, websocket, role)
        state.streams.take(principal.subject)
        if stream:
            state.decoder.admit()
    except (AuthError, Forbidden, RateLimited, TooManyStreams, Busy) as error:
        if isinstance(error, Busy) and principal is not None:
            state.streams.release(principal.subject)
        await websocket.close(code=CLOSE_CODES[type(error)], reason=str(error)[:120])
        yield None
        return
    try:
        yield principal
    finally:
        state.streams.release(principal.subject)
        if stream:
            state.decoder.release()
