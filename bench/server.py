"""Server benchmark: concurrent WebSocket transcription streams and voice-to-voice latency.

A real ``lbrxvoicepro serve`` process on this machine. N clients (N = 1, 4, 16) each stream a
real Polish clip at real-time pace (100 ms PCM16 frames) over ``/v1/stream/transcribe``;
latency of a final transcript runs from the moment its utterance's last audio was sent (the
utterance end, padding included, which the server needs before it can close it) to its
arrival. Baseline in the same run: the model's raw decode time of the same utterances
(faster-whisper through the project's transcriber, one at a time, no server). Then three spoken
questions over ``/v1/stream/converse``: end of user speech → first audio byte back.

    .venv/bin/python bench/server.py [--streams 1,4,16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
from websockets.asyncio.client import connect

from lbrxvoicepro.audio import load
from lbrxvoicepro.config import Settings
from lbrxvoicepro.runtime import ModelManager
from lbrxvoicepro.vad.segmenter import StreamSegmenter

ROOT = Path(__file__).resolve().parent.parent
CLIPS = sorted((ROOT / "tests" / "data" / "pl").glob("*.wav"))
FRAME = 1600


def pcm(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


async def transcribe_stream(url: str, samples: np.ndarray) -> tuple[list[float], int]:
    """Stream at real-time pace; latencies of the finals, and how many errors."""
    latencies: list[float] = []
    padded = np.concatenate([samples, np.zeros(16000, np.float32)])
    async with connect(f"{url}/v1/stream/transcribe?language=pl", max_size=None) as ws:
        started = time.perf_counter()

        async def send() -> None:
            for index, first in enumerate(range(0, len(padded), FRAME)):
                await ws.send(pcm(padded[first : first + FRAME]))
                wait = started + (index + 1) * FRAME / 16000 - time.perf_counter()
                await asyncio.sleep(max(0.0, wait))
            await ws.send(json.dumps({"type": "end"}))

        sender = asyncio.create_task(send())
        async for message in ws:
            event = json.loads(message)
            if event["type"] == "final":
                latencies.append(time.perf_counter() - (started + event["end"]))
            if event["type"] == "done":
                break
        await sender
    return latencies, 0


async def run_streams(url: str, count: int) -> tuple[list[float], int]:
    clips = [load(CLIPS[i % len(CLIPS)]).samples for i in range(count)]
    results = await asyncio.gather(
        *(transcribe_stream(url, c) for c in clips), return_exceptions=True
    )
    latencies = [x for r in results if not isinstance(r, BaseException) for x in r[0]]
    errors = sum(isinstance(r, BaseException) for r in results)
    return latencies, errors


async def voice_to_voice(url: str, samples: np.ndarray) -> float:
    """End of the question's speech (sent) → first audio frame of the answer (received)."""
    async with connect(f"{url}/v1/stream/converse?language=pl", max_size=None) as ws:
        started = time.perf_counter()
        speech_end: list[float] = []

        async def talk() -> None:
            stream = np.concatenate([samples, np.zeros(16000 * 30, np.float32)])
            for index, first in enumerate(range(0, len(stream), FRAME)):
                if first >= len(samples) and not speech_end:
                    speech_end.append(time.perf_counter())
                await ws.send(pcm(stream[first : first + FRAME]))
                wait = started + (index + 1) * FRAME / 16000 - time.perf_counter()
                await asyncio.sleep(max(0.0, wait))

        talker = asyncio.create_task(talk())
        async for message in ws:
            if isinstance(message, bytes):
                talker.cancel()
                return time.perf_counter() - speech_end[0]
    raise RuntimeError("no answer")


def raw_decode_times(settings: Settings) -> list[float]:
    models = ModelManager(settings)
    transcriber = models.transcriber()
    times = []
    for path in CLIPS:
        segmenter = StreamSegmenter(models.vad(), settings.vad)
        chunks = segmenter.feed(load(path).samples) + segmenter.flush()
        for chunk in chunks:
            started = time.perf_counter()
            transcriber.transcribe(chunk.audio, "pl")
            times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", default="1,4,16")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    settings = Settings(cache_dir=ROOT / ".cache")
    raw = raw_decode_times(settings)
    env = {**os.environ, "LBRX_CACHE_DIR": str(ROOT / ".cache")}
    command = [
        sys.executable,
        "-m",
        "lbrxvoicepro.cli",
        "serve",
        "--no-auth",
        "--port",
        str(args.port),
    ]
    server = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    url = f"ws://127.0.0.1:{args.port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"http://127.0.0.1:{args.port}/healthz")
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        asyncio.run(run_streams(url, 1))  # loads the models
        raw_p50 = statistics.median(raw) * 1000
        print(f"raw decode per utterance: p50 {raw_p50:.0f} ms, max {max(raw) * 1000:.0f} ms")
        for count in [int(n) for n in args.streams.split(",")]:
            latencies, errors = asyncio.run(run_streams(url, count))
            p50 = np.percentile(latencies, 50) * 1000
            p99 = np.percentile(latencies, 99) * 1000
            print(
                f"{count:2d} streams: {len(latencies)} finals, {errors} errors, final latency "
                f"p50 {p50:.0f} ms, p99 {p99:.0f} ms ({p50 / raw_p50:.1f}x raw decode p50)"
            )
        question = load(CLIPS[0]).samples
        v2v = [asyncio.run(voice_to_voice(url, question)) * 1000 for _ in range(3)]
        median, runs = statistics.median(v2v), [round(v) for v in v2v]
        print(f"voice to voice (end of speech → first audio byte): median {median:.0f} ms, {runs}")
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
