"""Listening, the sync core of the conversation: Silero VAD finds speech, the end-of-turn model
decides when the user is done, and speech over the answer is told apart from a backchannel.
Runs in a worker thread, frame by frame; the engine acts on what each frame brought."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lbrxvoicepro.config import ConversationSettings, VadSettings
from lbrxvoicepro.types import Audio, SpeechChunk
from lbrxvoicepro.vad.segmenter import StreamSegmenter
from lbrxvoicepro.vad.silero import SileroVAD
from lbrxvoicepro.vad.turn import SmartTurn


@dataclass(frozen=True)
class Utterance:
    """A finished turn of the user's speech."""

    audio: Audio
    speech_end: float
    """Where the speech itself ended, in seconds of input (its padding excluded)."""
    wait_s: float
    """How long after ``speech_end`` the turn was closed: the end-of-turn wait."""


@dataclass(frozen=True)
class Draft:
    """The utterance so far, taken at a pause."""

    audio: Audio
    speech_end: float
    """Its last voiced moment: an utterance that ends there has no more speech than this."""


@dataclass(frozen=True)
class TurnDecision:
    """The end-of-turn model's verdict after a short pause."""

    at: float
    probability: float
    complete: bool


@dataclass
class Listened:
    """What one frame brought."""

    speech_started: float | None = None
    """Input time of the onset, when speech began in this frame."""
    pause_answer: bool = False
    """Speech over the answer: hold it until it is clear what this is."""
    draft: Draft | None = None
    """The user paused: the question so far, worth recognising before the turn ends."""
    partial: Audio | None = None
    """The user has spoken a while since the last partial: the question so far, to show."""
    interrupt: bool = False
    """That speech has lasted long enough to be an interruption: stop the answer."""
    go_on: bool = False
    """That speech paused or ended short: the answer may go on."""
    decisions: list[TurnDecision] = field(default_factory=list)
    utterances: list[Utterance] = field(default_factory=list)
    backchannels: list[float] = field(default_factory=list)
    """Seconds of each short speech over the answer that ended here (not a turn): every
    speech that starts over the answer ends in a backchannel or an interruption."""


class Listener:
    def __init__(
        self,
        vad: SileroVAD,
        turn_model: SmartTurn | None,
        vad_settings: VadSettings,
        conversation: ConversationSettings,
    ) -> None:
        self._turn_model = turn_model
        self._settings = conversation
        self._padding = vad_settings.padding_ms / 1000
        self._pause_s = max(conversation.turn_pause_ms, vad_settings.padding_ms) / 1000
        """Silence that ends a backchannel or lets the model end the turn: by then the
        trailing padding of the utterance has arrived, so ending it yields its audio at once."""
        self._ask_s = min(conversation.turn_ask_ms / 1000, self._pause_s)
        if turn_model is not None:  # the model ends turns early; the pause only when it won't
            vad_settings = vad_settings.model_copy(
                update={"max_pause_ms": conversation.max_turn_pause_ms}
            )
        self.segmenter = StreamSegmenter(vad, vad_settings)
        self._speaking = False
        self._overlap = False
        """The speech in progress began over the answer and has not interrupted it (yet)."""
        self._overlap_voiced = 0.0
        self._held = False
        self._asks = 0
        """The end-of-turn model was asked in this pause: 1 early, 2 (also) at its end."""
        self._done = False
        """Its verdict in this pause: the speaker has finished."""
        self._drafted = False
        """A draft was taken during this pause already."""
        self._draft_s = conversation.draft_pause_ms / 1000
        self._partial_every_s = conversation.partial_every_ms / 1000
        self._partial_at = 0.0
        """Voiced length of the utterance when its last partial or draft was taken."""

    def hear(self, samples: np.ndarray, answering: bool, partial_wanted: bool = False) -> Listened:
        """One frame of 16 kHz audio; ``answering``: the assistant's answer is under way;
        ``partial_wanted``: a partial may be taken now (none is being recognised)."""
        segmenter, heard = self.segmenter, Listened()
        chunks = segmenter.feed(samples)
        if segmenter.in_speech and not self._speaking:
            heard.speech_started = round(segmenter.position, 3)
            self._overlap = answering
            self._partial_at = 0.0
        silence, pause_s = segmenter.silence_s, self._pause_s
        if silence == 0:
            self._asks, self._done, self._drafted = 0, False, False
        if self._overlap:
            if segmenter.speech_s >= self._settings.min_interruption_s:
                heard.interrupt, self._overlap, self._held = True, False, False
            elif segmenter.in_speech and silence < pause_s and not self._held:
                heard.pause_answer, self._held = True, True
            elif silence >= pause_s:  # short, then quiet: a backchannel, not a turn
                chunks += segmenter.end_utterance()
        else:
            if (
                self._draft_s
                and segmenter.in_speech
                and silence >= self._draft_s
                and not self._drafted
            ):
                heard.draft = self._draft()
            elif (
                partial_wanted
                and self._partial_every_s
                and silence == 0
                and segmenter.speech_s - self._partial_at >= self._partial_every_s
            ):
                self._partial_at = segmenter.speech_s
                heard.partial = segmenter.pending()
            if segmenter.in_speech:
                chunks += self._end_of_turn(heard, silence)
        for chunk in chunks:
            speech_end = chunk.span.end - self._padding
            if self._overlap:
                voiced = speech_end - chunk.span.start - self._padding
                heard.backchannels.append(round(max(0.0, voiced), 3))
                self._end_overlap(heard)
                continue
            wait = segmenter.position - speech_end
            heard.utterances.append(Utterance(chunk.audio, round(speech_end, 3), wait))
        if self._overlap and segmenter.in_speech:
            self._overlap_voiced = segmenter.speech_s
        if self._overlap and not segmenter.in_speech:  # too short even to be kept: still heard
            heard.backchannels.append(round(self._overlap_voiced, 3))
            self._end_overlap(heard)
        self._speaking = segmenter.in_speech
        return heard

    def _end_overlap(self, heard: Listened) -> None:
        self._overlap = False
        if self._held:
            heard.go_on, self._held = True, False

    def _draft(self) -> Draft | None:
        self._drafted = True
        self._partial_at = self.segmenter.speech_s
        pending = self.segmenter.pending()
        if pending is None:
            return None
        return Draft(pending, round(self.segmenter.voiced_end, 3))

    def _end_of_turn(self, heard: Listened, silence: float) -> list[SpeechChunk]:
        """In a pause: is the speaker done? The model is asked early in the pause (and, if it
        said no, again at ``turn_pause_ms``); its yes ends the turn at ``turn_pause_ms``."""
        if self._turn_model is None:
            return []
        paused = silence >= self._pause_s
        first_ask = self._asks == 0 and silence >= self._ask_s
        if first_ask or (self._asks == 1 and paused and not self._done):
            self._asks = 2 if paused else 1
            self._done = self._ask_turn_model(heard)
        return self.segmenter.end_utterance() if self._done and paused else []

    def _ask_turn_model(self, heard: Listened) -> bool:
        assert self._turn_model is not None
        pending = self.segmenter.pending()
        if pending is None:
            return False
        probability = self._turn_model.probability(pending.samples)
        complete = probability >= self._settings.turn_threshold
        heard.decisions.append(
            TurnDecision(round(self.segmenter.position, 3), round(probability, 3), complete)
        )
        return complete
