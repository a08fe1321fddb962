"""Findings 8 and 9: another caller continuing a conversation by its id, and credentials and
session ids written in full to the server's log."""

from __future__ import annotations

import json

from websockets.asyncio.client import connect

from tests.security.conftest import Target


async def first_event(target: Target, key: str, session: str = "") -> dict:
    query = f"token={key}" + (f"&session={session}" if session else "")
    async with connect(f"ws://{target.address}/v1/stream/converse?{query}") as ws:
        return json.loads(await ws.recv())


async def test_a_session_continues_only_for_the_caller_who_started_it(target: Target) -> None:
    owner, stranger = target.crowd[6], target.crowd[7]
    started = await first_event(target, owner)
    assert started["type"] == "session"
    assert (await first_event(target, owner, started["id"]))["id"] == started["id"]
    assert (await first_event(target, stranger, started["id"]))["id"] != started["id"]


async def test_credentials_and_session_ids_never_reach_the_log(target: Target) -> None:
    key = target.crowd[5]
    session = (await first_event(target, key))["id"]
    await first_event(target, key, session)
    log = target.log.read_text(errors="replace")
    assert "/v1/stream/converse?token=***" in log
    assert key not in log and key[5:20] not in log
    assert session not in log
