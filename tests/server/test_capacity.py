"""Admission control over real sockets: with the latency budget set low, a stream beyond
capacity is refused at once (1013, with the reason) and a file gets 503 + Retry-After, while
the stream already admitted carries on to its finals; ``/metrics`` shows the decoder."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import numpy as np
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from lbrxvoicepro.asr.scheduler import Busy
from lbrxvoicepro.audio import load
from lbrxvoicepro.config import Settings
from lbrxvoicepro.runtime import ModelManager
from lbrxvoicepro.server import create_app
from tests.server.conftest import bearer, clip, serving
from tests.server.test_websockets import pcm

SPEECH = load(clip("bigos_azon_spont_2.wav")).samples
PAUSE = np.zeros(16000, np.float32)
UTTERANCES = np.concatenate([SPEECH, PAUSE, *[SPEECH[: 12 * 16000], PAUSE] * 2])
"""Three utterances: sent at once, two wait while the first is decoded (~2 s)."""


def decoder_gauge(address: str, token: str, name: str) -> float:
    metrics = httpx.get(f"http://{address}/metrics", headers=bearer(token)).text
    line = next(row for row in metrics.splitlines() if row.startswith(name + " "))
    return float(line.split()[1])


async def test_the_stream_beyond_capacity_is_refused_while_the_others_carry_on(
    server_settings: Settings, models: ModelManager, tokens: dict[str, str]
) -> None:
    server = server_settings.server.model_copy(update={"latency_budget_s": 0.5})
    app = create_app(server_settings.model_copy(update={"server": server}), models)
    with serving(app) as address:
        url = f"ws://{address}/v1/stream/transcribe?language=pl&token={tokens['user']}"
        async with connect(url, max_size=None) as first:
            for start in range(0, len(UTTERANCES), 3200):
                await first.send(pcm(UTTERANCES[start : start + 3200]))
            deadline = time.monotonic() + 120
            while decoder_gauge(address, tokens["admin"], "lbrx_decoder_queue") < 2:
                assert time.monotonic() < deadline, "the utterances never queued"
                await asyncio.sleep(0.05)
            async with connect(url) as second:
                await second.wait_closed()
            assert second.close_code == 1013
            assert "at capacity" in (second.close_reason or "")
            refused = httpx.post(
                f"http://{address}/v1/audio/transcriptions",
                headers=bearer(tokens["user"]),
                files={"file": ("pytanie.wav", clip("bigos_azon_spont_1.wav").read_bytes())},
            )
            assert refused.status_code == 503, refused.text
            assert refused.headers["retry-after"] == "1"
            assert "at capacity" in refused.json()["error"]["message"]

            await first.send(json.dumps({"type": "end"}))
            events = [json.loads(message) async for message in first]
        finals = [e for e in events if e["type"] == "final"]
        assert events[-1]["type"] == "done"
        assert len(finals) == 3 and all(len(f["text"].split()) > 15 for f in finals)
        assert all(f["decoding"]["beam_size"] >= 1 for f in finals)
        assert decoder_gauge(address, tokens["admin"], "lbrx_decoder_refused_total") == 2
        metrics = httpx.get(f"http://{address}/metrics", headers=bearer(tokens["admin"])).text
        assert "lbrx_decoder_batch_size_count" in metrics
        assert "lbrx_decoder_level" in metrics


async def test_a_refused_stream_sees_the_reason_before_any_audio(
    server_settings: Settings, models: ModelManager, tokens: dict[str, str]
) -> None:
    """The refusal is a close frame right after the handshake: the client need not send."""
    server = server_settings.server.model_copy(update={"latency_budget_s": 0.5})
    app = create_app(server_settings.model_copy(update={"server": server}), models)
    decoder = app.state.lbrx.decoder
    with serving(app) as address:
        with pytest.raises(Busy):  # as many streams as the box can decode at real-time pace
            for _ in range(1000):
                decoder.admit()
        url = f"ws://{address}/v1/stream/transcribe?token={tokens['user']}"
        try:
            async with connect(url) as ws:
                await ws.recv()
        except ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 1013
        else:
            raise AssertionError("the stream was served")
