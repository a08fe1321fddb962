"""Rate limits per caller and per address (in memory, or in Redis shared by every process)."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from lbrxvoicepro.config import ServerSettings
from lbrxvoicepro.errors import LbrxError


class RateLimited(LbrxError):
    """Too many requests (HTTP 429); ``retry_after`` is in whole seconds."""

    def __init__(self, scope: str, retry_after: int) -> None:
        super().__init__(f"rate limit exceeded for this {scope}; retry in {retry_after} s")
        self.retry_after = retry_after


class RateLimiter:
    def __init__(self, settings: ServerSettings) -> None:
        uri = settings.redis_url or "memory://"
        self._limiter = MovingWindowRateLimiter(storage_from_string(uri))
        self._caller: RateLimitItem = parse(settings.rate_limit)
        self._address: RateLimitItem = parse(settings.ip_rate_limit)

    def check_address(self, address: str) -> None:
        self._hit(self._address, "address", address)

    def check_caller(self, subject: str) -> None:
        self._hit(self._caller, "caller", subject)

    def _hit(self, item: RateLimitItem, scope: str, key: str) -> None:
        if not self._limiter.hit(item, "lbrx", scope, key):
            reset = self._limiter.get_window_stats(item, "lbrx", scope, key).reset_time
            raise RateLimited(scope, max(1, math.ceil(reset - time.time())))


class TooManyStreams(LbrxError):
    """The caller already has as many streams open as ``server.max_streams_per_caller``."""


class StreamSlots:
    """Open WebSocket streams per caller in this process, capped: one key cannot take every
    worker thread with a burst of streams."""

    def __init__(self, per_caller: int) -> None:
        self.per_caller = per_caller
        self._open: Counter[str] = Counter()
        self._lock = threading.Lock()

    def take(self, subject: str) -> None:
        with self._lock:
            if self._open[subject] >= self.per_caller:
                raise TooManyStreams(
                    f"this caller already has {self.per_caller} streams open "
                    "(server.max_streams_per_caller)"
                )
            self._open[subject] += 1

    def release(self, subject: str) -> None:
        with self._lock:
            self._open[subject] -= 1
            if self._open[subject] <= 0:
                del self._open[subject]
