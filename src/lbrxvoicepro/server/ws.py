"""WebSocket admission: the same auth and rate limits as REST, refused with a close code."""

from __future__ import annotations

from fastapi import WebSocket

from lbrxvoicepro.server.auth import AuthError, Forbidden, Role
from lbrxvoicepro.server.deps import check, state_of
from lbrxvoicepro.server.limits import RateLimited

CLOSE_CODES = {AuthError: 4401, Forbidden: 4403, RateLimited: 4429}


async def accept_or_refuse(websocket: WebSocket, role: Role) -> bool:
    """Accept the connection; if it may not proceed, close it with 4401/4403/4429 and why.

    The handshake is accepted first so that the client sees the close code and reason (a
    refused handshake is only an HTTP 403, whatever the cause).
    """
    await websocket.accept()
    try:
        check(state_of(websocket), websocket, role)
    except (AuthError, Forbidden, RateLimited) as error:
        await websocket.close(code=CLOSE_CODES[type(error)], reason=str(error)[:120])
        return False
    return True
