"""Conversation state (history, voice, knowledge base) kept outside the server process.

In memory by default; in Redis when ``server.redis_url`` is set, so any server instance can
continue any conversation.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from lbrxvoicepro.llm import ChatMessage


@dataclass
class Session:
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    history: list[ChatMessage] = field(default_factory=list)
    voice: str = ""
    kb: str = ""
    language: str = ""
    owner: str = ""
    """The caller (key or token subject) who started it: nobody else may continue it."""

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Session:
        data: dict[str, Any] = json.loads(text)
        data["history"] = [ChatMessage(**m) for m in data["history"]]
        return cls(**data)


class SessionStore:
    def __init__(self, redis_url: str = "", ttl_s: int = 3600) -> None:
        self.ttl_s = ttl_s
        self._redis = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url)
        self._memory: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def load(self, session_id: str) -> Session | None:
        if self._redis is not None:
            text = self._redis.get(f"lbrx:session:{session_id}")
            return Session.from_json(text.decode()) if text else None  # type: ignore[union-attr]
        with self._lock:
            entry = self._memory.get(session_id)
            if entry is None or entry[0] < time.time():
                self._memory.pop(session_id, None)
                return None
            return Session.from_json(entry[1])

    def save(self, session: Session) -> None:
        if self._redis is not None:
            self._redis.set(f"lbrx:session:{session.id}", session.to_json(), ex=self.ttl_s)
            return
        with self._lock:
            self._memory[session.id] = (time.time() + self.ttl_s, session.to_json())
