"""Findings 1 and 4: a burst of streams from one key, and Silero VAD on the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import time

import httpx
import numpy as np
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from lbrxvoicepro.audio import load
from tests.security.conftest import Target, Watch
from tests.server.conftest import clip
from tests.server.test_websockets import pcm, stream

SPEECH = load(clip("bigos_azon_spont_2.wav")).samples


def stream_url(target: Target, key: str | None = None) -> str:
    key = key or target.keys["user"]
    return f"ws://{target.address}/v1/stream/transcribe?language=pl&token={key}"


async def flood(target: Target, seconds_of_speech: float, key: str | None = None) -> int | None:
    """Send speech as fast as the socket takes it, then leave without a word.
    Returns the close code if the server closed the stream first."""
    samples = np.tile(SPEECH, int(seconds_of_speech / 30) + 1)[: int(seconds_of_speech * 16000)]
    try:
        async with connect(stream_url(target, key), max_size=None) as ws:
            for first in range(0, len(samples), 3200):
                await ws.send(pcm(samples[first : first + 3200]))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.5):
                    await ws.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
    return None


async def test_one_key_cannot_open_more_than_its_share_of_streams(target: Target) -> None:
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(4):
            ws = await stack.enter_async_context(connect(stream_url(target)))
            await ws.send(pcm(np.zeros(1600, np.float32)))
        async with connect(stream_url(target)) as fifth, asyncio.timeout(60):
            await fifth.wait_closed()
        assert fifth.close_code == 4429
        assert "streams open" in (fifth.close_reason or "")


def transcribe_file(target: Target) -> float:
    started = time.perf_counter()
    response = httpx.post(
        f"{target.url}/v1/audio/transcriptions",
        headers=target.headers(),
        files={"file": ("pytanie.wav", clip("bigos_azon_spont_1.wav").read_bytes())},
        timeout=300,
    )
    assert response.status_code == 200, response.text
    return time.perf_counter() - started


async def speak_and_vanish(target: Target, seconds: float) -> None:
    """Real speech at real-time pace for ``seconds``, then gone without a close frame."""
    try:
        async with connect(stream_url(target), max_size=None) as ws:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stream(ws, np.tile(SPEECH, 2)), seconds)
            ws.transport.abort()
    except ConnectionClosed:
        pass


async def test_recognition_recovers_at_once_after_a_burst_that_disconnects(
    target: Target,
) -> None:
    """50 streams of one key speak for 40 s and vanish (at most four are let in), then 50 that
    send 120 s of speech as fast as they can; a file is transcribed the moment they are gone.

    Before the shared decoder, requests timed out for half an hour (and, with the per-caller
    cap alone, took up to 12x the idle time): the decodes of clients that had left stayed
    queued. Now their queued work is dropped when they go; what is left is the batch in
    progress: one stream window of up to 30 s (the file is 24 s), or several within half the
    latency budget. So the file waits at most about one more decode of its own length."""
    idle = await asyncio.to_thread(transcribe_file, target)
    await asyncio.gather(*(speak_and_vanish(target, 40) for _ in range(50)))
    await asyncio.gather(*(flood(target, 120) for _ in range(50)))
    after = await asyncio.to_thread(transcribe_file, target)
    assert after <= 3 * idle, (idle, after)


async def test_healthz_stays_fast_while_streams_send_faster_than_real_time(
    target: Target, watch: Watch
) -> None:
    """32 streams (eight callers at their cap of four) send speech faster than real time, in
    rounds until a hundred and fifty probes were answered: the 99th percentile is then not
    just the maximum, whatever the machine's speed."""
    while len(watch.latencies_ms) < 150:
        await asyncio.gather(*(flood(target, 30, key) for key in target.crowd for _ in range(4)))
    assert watch.p99_ms() < 100, sorted(watch.latencies_ms)[-5:]
