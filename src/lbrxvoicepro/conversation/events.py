"""What happened in a conversation, as typed events: the engine emits them, transports
translate them (the WebSocket sends ``wire(event)`` as JSON, the terminal prints them)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, fields
from typing import ClassVar

import numpy as np


@dataclass(frozen=True)
class SpeechStarted:
    """The user began to speak, ``at`` seconds into the input."""

    wire_type: ClassVar[str] = "speech_started"
    at: float


@dataclass(frozen=True)
class SpeechStopped:
    """The user's utterance ended ``at`` seconds into the input (its padding excluded)."""

    wire_type: ClassVar[str] = "speech_stopped"
    at: float


@dataclass(frozen=True)
class EndOfTurn:
    """The end-of-turn model's verdict early in a pause in the user's speech: ``complete``
    ends the turn when the pause reaches ``turn_pause_ms``; otherwise the model is asked again
    then, and the turn waits for more speech or a long pause."""

    wire_type: ClassVar[str] = "end_of_turn"
    at: float
    probability: float
    complete: bool


@dataclass(frozen=True)
class Partial:
    """The user's words so far, recognised at a pause while the turn is still open (the
    turn's ``Heard`` may differ: more speech may follow, or a fuller decode)."""

    wire_type: ClassVar[str] = "partial"
    text: str


@dataclass(frozen=True)
class Heard:
    """What the user said in the turn (empty when nothing was recognised)."""

    wire_type: ClassVar[str] = "transcript"
    text: str


@dataclass(frozen=True)
class AnswerDelta:
    """A piece of the answer's text, as the language model writes it."""

    wire_type: ClassVar[str] = "llm_delta"
    text: str


@dataclass(frozen=True)
class AnswerAudio:
    """A frame of the spoken answer, released at playback pace in real time."""

    wire_type: ClassVar[str] = "audio"
    samples: np.ndarray = field(repr=False)
    sample_rate: int
    sentence: int
    """Index of the sentence it belongs to."""

    def pcm16(self) -> bytes:
        return (np.clip(self.samples, -1, 1) * 32767).astype("<i2").tobytes()


@dataclass(frozen=True)
class BargeIn:
    """The user spoke over the answer: it stopped, and the history keeps what was heard."""

    wire_type: ClassVar[str] = "barge_in"
    spoken: str


@dataclass(frozen=True)
class Backchannel:
    """Speech over the answer too short to be an interruption ("mhm", "tak", a cough): the
    answer paused while it lasted, then went on."""

    wire_type: ClassVar[str] = "backchannel"
    duration: float
    """Seconds of that speech."""


@dataclass(frozen=True)
class TurnDone:
    """The answer was spoken in full; milliseconds per stage."""

    wire_type: ClassVar[str] = "turn"
    timings: dict[str, float]


@dataclass(frozen=True)
class TurnFailed:
    """The turn was lost: its question could not be recognised (an ASR worker unreachable,
    say) or its answer failed (the language model's process crashed); the conversation goes
    on."""

    wire_type: ClassVar[str] = "error"
    message: str
    kind: str
    """The project exception's class name."""


Event = (
    SpeechStarted
    | SpeechStopped
    | EndOfTurn
    | Partial
    | Heard
    | AnswerDelta
    | AnswerAudio
    | BargeIn
    | Backchannel
    | TurnDone
    | TurnFailed
)


Emit = Callable[[Event], Awaitable[None]]
"""How the engine hands an event to its transport."""


def elapsed_ms(since: float) -> float:
    """Milliseconds since ``since`` (a ``time.perf_counter()``), for a turn's timings."""
    return round((time.perf_counter() - since) * 1000, 1)


def wire(event: Event) -> dict[str, object]:
    """The event as the JSON object of the WebSocket protocol (docs/server.md); an audio
    event's samples travel in the binary frame that follows it."""
    body: dict[str, object] = {"type": event.wire_type}
    body.update((f.name, getattr(event, f.name)) for f in fields(event) if f.name != "samples")
    return body
