"""uvicorn's HTTP protocol (httptools) with what it lacks against slow or greedy clients: a
deadline for each request's line and headers (uvicorn times out idle keep-alive connections
and, through ``BodyLimit``, slow bodies, but a client that trickles its headers holds a
connection for ever), and a cap on the connections one address holds open. Both act before
the request reaches the application, where nothing else can see them."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from lbrxvoicepro.config import ServerSettings


def _response(status: str, message: str, kind: str, headers: str = "") -> bytes:
    """A whole HTTP response in the API's error shape, for a connection about to close."""
    body = json.dumps({"error": {"message": message, "type": kind}}).encode()
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{headers}"
        f"Connection: close\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


TIMEOUT_RESPONSE = _response(
    "408 Request Timeout", "the request headers came too slowly", "Timeout"
)
BUSY_RESPONSE = _response(
    "503 Service Unavailable",
    "too many open connections from this address",
    "Busy",
    "Retry-After: 1\r\n",
)


def guarded_protocol(settings: ServerSettings) -> type[HttpToolsProtocol]:
    """The protocol class for ``uvicorn.Config(http=...)``, with ``settings``' limits."""
    trusted = {address.strip() for address in settings.trusted_proxies.split(",")}
    open_by_address: Counter[str] = Counter()

    class GuardedProtocol(HttpToolsProtocol):
        _address: str | None = None
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            address = self.client[0] if self.client else ""
            if address not in trusted:
                self._address = address
                open_by_address[address] += 1
                if open_by_address[address] > settings.max_connections_per_address:
                    transport.write(BUSY_RESPONSE)
                    transport.close()
                    return
            self._start_deadline()

        def connection_lost(self, exc: Exception | None) -> None:
            self._leave()
            super().connection_lost(exc)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            if self._deadline is None:  # the next request on a kept-alive connection
                self._start_deadline()

        def on_headers_complete(self) -> None:
            self._stop_deadline()
            super().on_headers_complete()

        def handle_websocket_upgrade(self) -> None:
            self._leave()  # the WebSocket has caps of its own (streams per caller, idle time)
            super().handle_websocket_upgrade()

        def _start_deadline(self) -> None:
            self._deadline = self.loop.call_later(settings.header_timeout_s, self._too_slow)

        def _stop_deadline(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _too_slow(self) -> None:
            self._deadline = None
            if not self.transport.is_closing():
                self.transport.write(TIMEOUT_RESPONSE)
                self.transport.close()

        def _leave(self) -> None:
            self._stop_deadline()
            if self._address is not None:
                open_by_address[self._address] -= 1
                if not open_by_address[self._address]:
                    del open_by_address[self._address]
                self._address = None

    return GuardedProtocol
