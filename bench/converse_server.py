"""Voice to voice over ``/v1/stream/converse``: the design the conversation issue measured
(the server's own turn loop, checked out at ``--baseline`` in a temporary git worktree) against
this checkout's conversation engine, both as real ``lbrxvoicepro serve`` processes on this
environment, driven by the same WebSocket client on the same questions in the same run.

The questions are ``bench/converse.py``'s (real read Polish speech from
``../shared/testdata/pl-nemo``, 1 s of silence before and 2.5 s after, 100 ms PCM16 frames at
real-time pace, silence sent on as a microphone does). Voice to voice runs from the true end of
speech in the audio (Silero's probability last over 0.5 in the clip itself) to the first answer
audio frame the client receives. Both servers answer from a knowledge base of ``examples/kb``
(built by each revision's own ``kb add``) with Gemma 3 270M on llama.cpp (48 tokens at most,
temperature 0), spoken by eSpeak NG Polish.

    .venv/bin/python bench/converse_server.py [--questions 12] [--baseline REV]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from server import ROOT, environment, pcm, serving
from spoken_questions import FRAME, Question, questions
from websockets.asyncio.client import connect

from lbrxvoicepro.config import Settings
from lbrxvoicepro.runtime import ModelManager

BEFORE_CONVERSATION_WORK = "049bb7d"
"""The last revision before the conversation issue's first change (5009080, first clause)."""
QUERY = "kb=bench&voice=espeak:pl&language=pl"


async def first_answer_audio(url: str, question: Question) -> float:
    """Speak the question at real-time pace; seconds from its true end to the first audio."""
    silence = pcm(np.zeros(FRAME, np.float32))
    async with connect(f"{url}/v1/stream/converse?{QUERY}", max_size=None) as ws:
        started = time.perf_counter()

        async def speak() -> None:
            samples = question.samples
            for index, first in enumerate(range(0, len(samples), FRAME)):
                await ws.send(pcm(samples[first : first + FRAME]))
                await asyncio.sleep(
                    max(0.0, started + (index + 1) * FRAME / 16000 - time.perf_counter())
                )
            while True:
                await ws.send(silence)
                await asyncio.sleep(FRAME / 16000)

        speaker = asyncio.create_task(speak())
        try:
            async with asyncio.timeout(120):
                async for message in ws:
                    if isinstance(message, str) and json.loads(message)["type"] == "audio":
                        return time.perf_counter() - (started + question.speech_end_s)
        finally:
            speaker.cancel()
    raise RuntimeError(f"{question.name}: the conversation closed before any answer audio")


def measure(
    source: Path, spoken: list[Question], port: int, folder: Path, settings: dict[str, str]
) -> list[float]:
    """Each question's voice to voice on a server running the code in ``source``."""
    extra = {
        "LBRX_KB__DATA_DIR": str(folder / "kb"),
        "LBRX_LLM__MAX_TOKENS": "48",
        "LBRX_LLM__TEMPERATURE": "0",
        **settings,
    }
    add = [sys.executable, "-m", "lbrxvoicepro.cli", "kb", "add", "examples/kb", "--kb", "bench"]
    env = environment(source, extra)
    subprocess.run(add, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    with serving(port, source, extra) as url:
        asyncio.run(first_answer_audio(url, spoken[0]))  # loads the models
        return [asyncio.run(first_answer_audio(url, q)) for q in spoken]


def report(name: str, latencies: list[float]) -> float:
    ordered = sorted(latencies)
    median = statistics.median(ordered)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    print(f"{name}: voice to voice median {median:.2f} s, p90 {p90:.2f} s, max {ordered[-1]:.2f} s")
    return median


def compare(spoken: list[Question], baseline: str, settings: dict[str, str], port: int) -> float:
    """Both servers on ``spoken``, reported; how many times faster this checkout is."""
    with tempfile.TemporaryDirectory() as folder:
        checkout = Path(folder) / "baseline"
        git = ["git", "-C", str(ROOT)]
        subprocess.run([*git, "worktree", "add", "--detach", str(checkout), baseline], check=True)
        try:
            today = measure(checkout / "src", spoken, port, Path(folder) / "today", settings)
        finally:
            subprocess.run([*git, "worktree", "remove", "--force", str(checkout)], check=True)
        project = measure(ROOT / "src", spoken, port, Path(folder) / "project", settings)
    print()
    before = report(f"{baseline} (the server's turn loop)", today)
    now = report("this checkout (the conversation engine)", project)
    print(f"this checkout vs {baseline}: {before / now:.2f}x faster")
    return before / now


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--baseline", default=BEFORE_CONVERSATION_WORK, help="git revision")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="LBRX_NAME=VALUE",
        help="a setting for both servers (e.g. LBRX_KB__TOP_K=3); repeatable",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=12)
    parser.add_argument("--nemo", type=Path, default=ROOT.parent / "shared/testdata/pl-nemo")
    add_options(parser)
    args = parser.parse_args()
    models = ModelManager(Settings(cache_dir=ROOT / ".cache"))
    spoken = questions(args.nemo, args.questions, models)
    models.unload()
    compare(spoken, args.baseline, dict(item.split("=", 1) for item in args.set), args.port)


if __name__ == "__main__":
    main()
