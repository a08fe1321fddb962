"""Conversation sessions live outside the process: in Redis, any instance continues them."""

from __future__ import annotations

from lbrxvoicepro.llm import ChatMessage
from lbrxvoicepro.server.sessions import Session, SessionStore


def test_two_instances_share_sessions_through_redis(redis_url: str) -> None:
    first, second = SessionStore(redis_url, ttl_s=60), SessionStore(redis_url, ttl_s=60)
    session = Session(voice="espeak:pl", kb="firma", language="pl")
    session.history.append(ChatMessage("user", "Dzień dobry"))
    first.save(session)
    continued = second.load(session.id)
    assert continued == session
    continued.history.append(ChatMessage("assistant", "Dzień dobry, w czym pomóc?"))
    second.save(continued)
    assert first.load(session.id).history[-1].content == "Dzień dobry, w czym pomóc?"  # type: ignore[union-attr]
    assert second.load("no-such-session") is None


def test_in_memory_sessions_expire() -> None:
    store = SessionStore(ttl_s=0)
    session = Session()
    store.save(session)
    assert store.load(session.id) is None
