"""Finding 7: 500 messages of 40 KB each kept the server tokenizing 6.8 M tokens for a minute,
then answered 502 naming the model file."""

from __future__ import annotations

import time

import httpx

from tests.security.conftest import Target


def test_a_prompt_that_cannot_fit_is_refused_at_once(target: Target) -> None:
    messages = [{"role": "user", "content": "słowo " * 6800} for _ in range(500)]
    started = time.perf_counter()
    response = httpx.post(
        f"{target.url}/v1/chat/completions",
        headers=target.headers(),
        json={"model": "local", "messages": messages},
        timeout=120,
    )
    assert response.status_code == 400, response.text[:300]
    error = response.json()["error"]
    assert error["type"] == "PromptTooLong" and "cannot fit" in error["message"]
    assert time.perf_counter() - started < 10
    small = [{"role": "user", "content": "słowo " * 3000}]
    tokens = httpx.post(
        f"{target.url}/v1/chat/completions",
        headers=target.headers(),
        json={"model": "local", "messages": small},
        timeout=120,
    )
    assert tokens.status_code == 400 and "do not fit" in tokens.json()["error"]["message"]
