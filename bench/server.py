"""Server benchmark: concurrent real-time WebSocket transcription streams, shared decoder vs
one utterance at a time.

A real ``lbrxvoicepro serve`` process on this machine, started twice in the same run: first
the code of ``--baseline`` (default: the last revision before the shared decoder, where each
stream decoded its utterances in threads of its own), checked out in a temporary git
worktree and run on this environment, then this checkout (shared batches, adaptive quality,
admission control). N clients (1, 4, 8, 16)
each stream a real Polish clip at real-time pace (100 ms PCM16 frames) over
``/v1/stream/transcribe``; a final's latency runs from the moment its utterance's last audio
was sent (its end, padding included) to its arrival. Also printed: the raw decode time of the
same utterances (the project's transcriber, one at a time, no server).

    .venv/bin/python bench/server.py [--streams 1,4,8,16] [--baseline REV]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from lbrxvoicepro.audio import load
from lbrxvoicepro.config import Settings
from lbrxvoicepro.runtime import ModelManager
from lbrxvoicepro.vad.segmenter import StreamSegmenter

ROOT = Path(__file__).resolve().parent.parent
CLIPS = sorted((ROOT / "tests" / "data" / "pl").glob("*.wav"))
FRAME = 1600


def pcm(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


BEFORE_SHARED_DECODER = "682dc25"
HELD_P99_S = 3.0


@dataclass
class StreamResult:
    latencies: list[float] = field(default_factory=list)
    decodings: list[dict[str, int]] = field(default_factory=list)
    refused: bool = False


async def transcribe_stream(url: str, samples: np.ndarray) -> StreamResult:
    """Stream at real-time pace; the finals' latencies and decoding settings, or a refusal."""
    result = StreamResult()
    padded = np.concatenate([samples, np.zeros(16000, np.float32)])
    try:
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
                    result.latencies.append(time.perf_counter() - (started + event["end"]))
                    result.decodings.append(event.get("decoding", {}))
                if event["type"] == "done":
                    break
            await sender
    except ConnectionClosed as closed:
        if closed.rcvd is None or closed.rcvd.code != 1013:
            raise
        result.refused = True
    return result


@dataclass
class Round:
    streams: int
    latencies: list[float]
    errors: int
    refused: int
    decodings: list[dict[str, int]]

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies, q)) if self.latencies else float("nan")

    @property
    def held(self) -> bool:
        ok = not self.errors and not self.refused and self.latencies
        return bool(ok) and self.percentile(99) <= HELD_P99_S

    def settings(self) -> str:
        beams = sorted({d.get("beam_size", 0) for d in self.decodings})
        batches = [d.get("batch", 1) for d in self.decodings]
        levels = sorted({d.get("level", 0) for d in self.decodings})
        if not self.decodings or not self.decodings[0]:
            return "beam 8, one utterance at a time"
        return f"beam {beams}, levels {levels}, batch up to {max(batches)}"


async def run_streams(url: str, count: int) -> Round:
    clips = [load(CLIPS[i % len(CLIPS)]).samples for i in range(count)]
    results = await asyncio.gather(
        *(transcribe_stream(url, c) for c in clips), return_exceptions=True
    )
    good = [r for r in results if isinstance(r, StreamResult)]
    return Round(
        count,
        [x for r in good for x in r.latencies],
        sum(isinstance(r, BaseException) for r in results),
        sum(r.refused for r in good),
        [d for r in good for d in r.decodings],
    )


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


def environment(source: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """What runs the code in ``source`` with this checkout's model cache."""
    return {
        **os.environ,
        "PYTHONPATH": str(source),
        "LBRX_CACHE_DIR": str(ROOT / ".cache"),
        **(extra or {}),
    }


def serve(port: int, source: Path, extra: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """``lbrxvoicepro serve`` from the code in ``source``, without auth, once it answers."""
    # every client here is one anonymous caller
    env = environment(source, {"LBRX_SERVER__MAX_STREAMS_PER_CALLER": "64", **(extra or {})})
    command = [sys.executable, "-m", "lbrxvoicepro.cli", "serve", "--no-auth", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz")
            return server
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start")


@contextlib.contextmanager
def serving(port: int, source: Path, extra: dict[str, str] | None = None) -> Iterator[str]:
    """A server from the code in ``source`` while the block runs: its WebSocket base URL."""
    server = serve(port, source, extra)
    try:
        yield f"ws://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def measure(port: int, source: Path, counts: list[int]) -> list[Round]:
    with serving(port, source) as url:
        asyncio.run(run_streams(url, 1))  # loads the models
        return [asyncio.run(run_streams(url, count)) for count in counts]


def report(name: str, rounds: list[Round]) -> None:
    print(f"\n{name}")
    single = rounds[0].percentile(50)
    for r in rounds:
        print(
            f"{r.streams:2d} streams: {len(r.latencies)} finals, {r.errors} errors, "
            f"{r.refused} refused, final p50 {r.percentile(50):.2f} s, p99 "
            f"{r.percentile(99):.2f} s ({r.percentile(50) / single:.1f}x the 1-stream p50); "
            f"{r.settings()}"
        )
    held = max((r.streams for r in rounds if r.held), default=0)
    print(f"most streams held at final p99 <= {HELD_P99_S:g} s: {held}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", default="1,4,8,16")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--baseline", default=BEFORE_SHARED_DECODER, help="git revision")
    args = parser.parse_args()
    counts = [int(n) for n in args.streams.split(",")]
    raw = raw_decode_times(Settings(cache_dir=ROOT / ".cache"))
    print(f"raw decode per utterance: p50 {statistics.median(raw):.2f} s, max {max(raw):.2f} s")
    with tempfile.TemporaryDirectory() as folder:
        checkout = Path(folder) / "baseline"
        git = ["git", "-C", str(ROOT)]
        subprocess.run(
            [*git, "worktree", "add", "--detach", str(checkout), args.baseline], check=True
        )
        try:
            today = measure(args.port, checkout / "src", counts)
        finally:
            subprocess.run([*git, "worktree", "remove", "--force", str(checkout)], check=True)
    report(f"each stream on its own ({args.baseline}, before the shared decoder)", today)
    shared = measure(args.port, ROOT / "src", counts)
    report("shared decoder (this checkout)", shared)
    held_today = max((r.streams for r in today if r.held), default=0)
    held_now = max((r.streams for r in shared if r.held), default=0)
    print(f"\nstreams held at p99 <= {HELD_P99_S:g} s: {held_now} vs {held_today}")


if __name__ == "__main__":
    main()
