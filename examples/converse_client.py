"""A minimal voice-conversation client for ``/v1/stream/converse``.

Streams a WAV file as if spoken into a microphone (real-time pace, then silence), prints the
events and writes the assistant's speech to ``answer.wav``.

    python examples/converse_client.py question.wav --url ws://127.0.0.1:8000 [--token TOKEN]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import numpy as np
import soundfile as sf
import soxr
from websockets.asyncio.client import connect

FRAME = 1600  # 100 ms of 16 kHz audio


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("wav")
    parser.add_argument("--url", default="ws://127.0.0.1:8000")
    parser.add_argument("--token", default="")
    parser.add_argument("--kb", default="")
    args = parser.parse_args()

    samples, rate = sf.read(args.wav, dtype="float32", always_2d=True)
    speech = soxr.resample(samples.mean(axis=1), rate, 16000)
    stream = np.concatenate([speech, np.zeros(16000 * 20, np.float32)])
    query = f"?language=pl&token={args.token}&kb={args.kb}"
    answer: list[np.ndarray] = []
    answer_rate = 16000

    async with connect(f"{args.url}/v1/stream/converse{query}", max_size=None) as ws:

        async def microphone() -> None:
            started = time.perf_counter()
            for index, first in enumerate(range(0, len(stream), FRAME)):
                frame = (np.clip(stream[first : first + FRAME], -1, 1) * 32767).astype("<i2")
                await ws.send(frame.tobytes())
                await asyncio.sleep(max(0, started + (index + 1) * 0.1 - time.perf_counter()))

        mic = asyncio.create_task(microphone())
        async for message in ws:
            if isinstance(message, bytes):
                answer.append(np.frombuffer(message, dtype="<i2").astype(np.float32) / 32768)
                continue
            event = json.loads(message)
            if event["type"] == "audio":
                answer_rate = event["sample_rate"]
            elif event["type"] == "llm_delta":
                print(event["text"], end="", flush=True)
            else:
                print(f"\n{event}")
            if event["type"] == "turn":
                break
        mic.cancel()
    if answer:
        sf.write("answer.wav", np.concatenate(answer), answer_rate)
        print("answer written to answer.wav")


if __name__ == "__main__":
    asyncio.run(main())
