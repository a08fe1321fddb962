"""Streaming transcription and voice conversation over real WebSockets, at real-time pace."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import numpy as np
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect

from lbrxvoicepro.audio import load
from lbrxvoicepro.conversation import FRAME_S, LEAD_S
from lbrxvoicepro.runtime import ModelManager
from lbrxvoicepro.server.sessions import Session
from lbrxvoicepro.text import wer
from tests.conftest import reference
from tests.server.conftest import clip

FRAME = 1600  # 100 ms at 16 kHz
HEARD_FRAMES = 4


def pcm(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


async def stream(ws: ClientConnection, samples: np.ndarray) -> None:
    """Send ``samples`` in 100 ms frames, each when it would have been recorded."""
    started = time.perf_counter()
    for index, first in enumerate(range(0, len(samples), FRAME)):
        await ws.send(pcm(samples[first : first + FRAME]))
        await asyncio.sleep(max(0.0, started + (index + 1) * FRAME / 16000 - time.perf_counter()))


async def test_streamed_speech_gets_the_right_final_transcript(
    live_server: str, tokens: dict[str, str]
) -> None:
    path = clip("bigos_azon_spont_2.wav")
    samples = load(path).samples
    url = f"ws://{live_server}/v1/stream/transcribe?language=pl&token={tokens['user']}"
    async with connect(url) as ws:
        sender = asyncio.create_task(
            stream(ws, np.concatenate([samples, np.zeros(16000, np.float32)]))
        )
        events = []
        while not sender.done() or events[-1:] != ["end sent"]:
            if sender.done():
                await ws.send(json.dumps({"type": "end"}))
                events.append("end sent")
                break
            try:
                events.append(json.loads(await asyncio.wait_for(ws.recv(), 0.1)))
            except TimeoutError:
                continue
        async for message in ws:
            events.append(json.loads(message))
    finals = [e for e in events if isinstance(e, dict) and e["type"] == "final"]
    assert events[-1]["type"] == "done"
    text = " ".join(f["text"] for f in finals)
    assert wer(reference(path), text) < 0.35, text
    words = [w for f in finals for w in f["words"]]
    assert words and all(0 <= w["start"] <= w["end"] <= len(samples) / 16000 + 1 for w in words)
    assert any(e["type"] == "partial" for e in events if isinstance(e, dict))


async def test_a_bad_token_is_refused(live_server: str) -> None:
    async with connect(f"ws://{live_server}/v1/stream/transcribe?token=nonsense") as ws:
        await ws.wait_closed()
    assert ws.close_code == 4401


async def converse(
    live_server: str,
    token: str,
    question: np.ndarray,
    interruption: np.ndarray | None,
    until: frozenset[str] = frozenset({"turn"}),
    heard_frames: int = HEARD_FRAMES,
) -> tuple[list[tuple[float, dict]], float | None]:
    """Ask by voice; if ``interruption`` is given, speak it over the first answer. Events are
    read until one of each kind in ``until`` has come.

    Returns every event with its arrival time, and where the interruption began on the
    stream's clock (seconds of audio sent before it).
    """
    url = f"ws://{live_server}/v1/stream/converse?language=pl&token={token}"
    events: list[tuple[float, dict]] = []
    speaking = asyncio.Event()
    interrupted_at: list[float] = []

    async with connect(url, max_size=None) as ws:

        async def talk() -> None:
            await stream(ws, question)
            sent = len(question)
            silence = np.zeros(FRAME, np.float32)
            while not speaking.is_set():
                await stream(ws, silence)
                sent += FRAME
            if interruption is not None:
                # Let some of the answer be heard, little enough that even a one-sentence answer
                # is still playing when a machine twice as slow notices the interruption.
                await stream(ws, np.zeros(FRAME * heard_frames, np.float32))
                interrupted_at.append((sent + FRAME * heard_frames) / 16000)
                await stream(ws, interruption)
            for _ in range(40):
                await stream(ws, silence)

        talker = asyncio.create_task(talk())
        try:
            async with asyncio.timeout(120):  # a missing event fails the test, never hangs it
                async for message in ws:
                    now = time.perf_counter()
                    if isinstance(message, bytes):
                        events.append((now, {"type": "audio bytes", "size": len(message)}))
                        speaking.set()
                        continue
                    event = json.loads(message)
                    events.append((now, event))
                    if until <= {e["type"] for _, e in events}:
                        break
            if "barge_in" in until:  # anything still sent after the barge-in is caught too
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(1.0):
                        async for message in ws:
                            kind = "audio bytes" if isinstance(message, bytes) else "late event"
                            events.append(
                                (time.perf_counter(), {"type": kind, "size": len(message)})
                            )
        finally:
            talker.cancel()
    return events, interrupted_at[0] if interrupted_at else None


def onset(samples: np.ndarray, models: ModelManager) -> float:
    """Seconds to the first Silero window over the speech threshold."""
    probabilities = models.vad().probabilities(samples)
    return float(np.argmax(probabilities >= 0.5) * 512 / 16000)


async def test_a_spoken_question_gets_a_spoken_answer(
    live_server: str, tokens: dict[str, str]
) -> None:
    question = load(clip("bigos_azon_spont_0.wav")).samples
    events, _ = await converse(live_server, tokens["user"], question, None)
    kinds = [e["type"] for _, e in events]
    assert kinds[0] == "session"
    assert kinds.index("speech_started") < kinds.index("speech_stopped") < kinds.index("transcript")
    # 26 s of speech: the words so far are shown while it is spoken
    partials = [e["text"] for _, e in events if e["type"] == "partial"]
    assert len(partials) >= 3 and kinds.index("partial") < kinds.index("speech_stopped")
    assert "partial" not in kinds[kinds.index("transcript") :]
    assert "llm_delta" in kinds
    audio = sum(e["size"] for _, e in events if e["type"] == "audio bytes")
    assert audio > 22050 * 2 * 0.5  # over half a second of 16-bit speech
    timings = next(e for _, e in events if e["type"] == "turn")["timings"]
    stages = {"end_of_turn_ms", "asr_ms", "retrieval_ms", "llm_first_token_ms", "first_audio_ms"}
    assert stages <= set(timings)
    decisions = [e for _, e in events if e["type"] == "end_of_turn"]
    assert decisions and all(0 <= e["probability"] <= 1 for e in decisions)


async def test_barge_in_stops_the_answer_and_trims_history(
    live_server: str, tokens: dict[str, str], app: FastAPI, models: ModelManager
) -> None:
    question = load(clip("bigos_azon_spont_0.wav")).samples
    speech = load(clip("bigos_azon_spont_3.wav")).samples
    # The interruption starts 0.1 s before its speech, so that even a one-sentence answer of
    # under a second is still playing when a machine twice as slow notices it.
    interruption = speech[max(0, int((onset(speech, models) - 0.1) * 16000)) :]
    """The promise: the assistant stops within 200 ms of the user's speech onset, measured on
    the stream's clock (the audio timeline both sides share), so that it holds on a machine
    twice as slow: the server notices the speech within 200 ms of audio after its onset and
    sends no answer audio after that. Wall-clock latency is bench/'s business."""
    events, interrupted_at = await converse(
        live_server, tokens["user"], question, interruption, until=frozenset({"barge_in"})
    )
    assert interrupted_at is not None
    speech_onset = interrupted_at + onset(interruption, models)
    barge = next((t, e) for t, e in events if e["type"] == "barge_in")
    noticed = [e["at"] for t, e in events if e["type"] == "speech_started" and t < barge[0]][-1]
    assert 0 <= noticed - speech_onset <= 0.2, (noticed, speech_onset)
    answer_audio = [(t, e["size"]) for t, e in events if e["type"] == "audio bytes"]
    assert answer_audio and answer_audio[-1][0] < barge[0], "answer audio after the barge-in"
    rate = next(e["sample_rate"] for _, e in events if e["type"] == "audio")
    received_s = sum(size for _, size in answer_audio) / 2 / rate
    played_s = barge[0] - answer_audio[0][0]
    assert received_s - played_s <= LEAD_S + FRAME_S, "more answer audio queued than promised"
    written = "".join(e["text"] for t, e in events if e["type"] == "llm_delta" and t < barge[0])
    spoken = barge[1]["spoken"]
    assert spoken and len(spoken) < len(written.strip()), (spoken, written)
    session_id = next(e["id"] for _, e in events if e["type"] == "session")
    session: Session | None = app.state.lbrx.sessions.load(session_id)
    assert session is not None
    assert session.history[1].role == "assistant" and session.history[1].content == spoken


async def test_a_short_backchannel_during_the_answer_does_not_interrupt_it(
    live_server: str, tokens: dict[str, str], app: FastAPI, models: ModelManager
) -> None:
    """ "Tak." spoken over the answer (a quarter of a second, under the 0.6 s needed to
    interrupt): the answer pauses, then is spoken to its end and kept whole in the history."""
    question = load(clip("bigos_azon_spont_0.wav")).samples
    spoken = models.synthesizer("espeak:pl").synthesize_sync("Tak.")
    backchannel = load(spoken, 16000).samples
    events, said_at = await converse(
        live_server,
        tokens["user"],
        question,
        backchannel,
        until=frozenset({"turn", "backchannel"}),
        heard_frames=2,
    )
    assert said_at is not None
    kinds = [e["type"] for _, e in events]
    assert "barge_in" not in kinds, kinds
    first_audio = kinds.index("audio")
    overlap = kinds.index("speech_started", first_audio)
    assert "audio" in kinds[overlap:], "the answer did not go on after the speech over it"
    assert "backchannel" in kinds[overlap:], " ".join(k for k in kinds if "audio" not in k)
    assert "transcript" not in kinds[overlap:], "the backchannel was taken for a question"
    session_id = next(e["id"] for _, e in events if e["type"] == "session")
    session: Session | None = app.state.lbrx.sessions.load(session_id)
    assert session is not None and [m.role for m in session.history] == ["user", "assistant"]
    written = "".join(e["text"] for _, e in events if e["type"] == "llm_delta")
    heard = session.history[1].content
    assert heard and not heard.endswith("…") and heard.split()[-1] in written, (heard, written)
