"""One conversation engine (frames in, typed events out) under every transport."""

from lbrxvoicepro.conversation.engine import (
    ConversationEngine,
    ConversationSetup,
    question_asr,
)
from lbrxvoicepro.conversation.events import (
    AnswerAudio,
    AnswerDelta,
    Backchannel,
    BargeIn,
    Emit,
    EndOfTurn,
    Event,
    Heard,
    Partial,
    SpeechStarted,
    SpeechStopped,
    TurnDone,
    TurnFailed,
    wire,
)
from lbrxvoicepro.conversation.speaker import FRAME_S, LEAD_S

__all__ = [
    "FRAME_S",
    "LEAD_S",
    "AnswerAudio",
    "AnswerDelta",
    "Backchannel",
    "BargeIn",
    "ConversationEngine",
    "ConversationSetup",
    "Emit",
    "EndOfTurn",
    "Event",
    "Heard",
    "Partial",
    "SpeechStarted",
    "SpeechStopped",
    "TurnDone",
    "TurnFailed",
    "question_asr",
    "wire",
]
