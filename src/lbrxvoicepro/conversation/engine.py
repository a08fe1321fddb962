"""The one conversation engine: audio frames in, typed events out.

Every transport (the WebSocket ``/v1/stream/converse``, ``lbrxvoicepro talk``, the browser
page) is a thin adapter: it feeds 16 kHz float frames and translates the events it is handed.
The engine owns the turn loop: Silero VAD finds the end of an utterance, Whisper recognises
it, retrieval and the language model answer it, and the answer is spoken while it is still
being written (its first clause at once, then sentence by sentence); when a pause's draft
transcript is ready before the turn has ended, the answer starts on it (``ahead``). In real
time, audio is released at playback pace (``LEAD_S`` ahead at most), so when the user starts
speaking the answer stops at once and the history keeps only what was heard.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from types import TracebackType

import numpy as np

from lbrxvoicepro.audio.sources import pcm16_to_float
from lbrxvoicepro.config import AsrSettings, Settings
from lbrxvoicepro.conversation.ahead import AnswerAhead, AnswersAhead, HeldEvents
from lbrxvoicepro.conversation.events import (
    Backchannel,
    BargeIn,
    Emit,
    EndOfTurn,
    Heard,
    Partial,
    SpeechStarted,
    SpeechStopped,
    TurnDone,
    TurnFailed,
    elapsed_ms,
)
from lbrxvoicepro.conversation.listener import Listened, Listener
from lbrxvoicepro.conversation.prompter import Prompter
from lbrxvoicepro.conversation.reply import Reply
from lbrxvoicepro.conversation.speaker import speak
from lbrxvoicepro.conversation.writer import write_answer
from lbrxvoicepro.errors import LbrxError, ModelNotFound
from lbrxvoicepro.llm import ChatMessage
from lbrxvoicepro.runtime import ModelManager
from lbrxvoicepro.types import Audio, Transcript
from lbrxvoicepro.vad.turn import SmartTurn

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConversationSetup:
    """One conversation's choices; empty means the configured default."""

    language: str = ""
    voice: str = ""
    kb: str = ""
    """Knowledge base to answer from; empty: none (the model answers alone)."""


def question_asr(settings: Settings) -> AsrSettings:
    """Whisper's settings for spoken questions: the conversation's beam, and no word timings
    (a question is recognised for its words alone)."""
    beam = settings.conversation.beam_size or settings.asr.beam_size
    return settings.asr.model_copy(update={"beam_size": beam, "word_timestamps": False})


class ConversationEngine:
    """Use as ``async with ConversationEngine(...) as engine:`` then ``await engine.feed(frame)``
    (live audio, turns found by the VAD) or ``await engine.turn(audio)`` (one whole question).

    ``history`` is kept in place (pass a session's list to continue it); ``on_history`` is
    awaited whenever it changed. ``realtime=False`` releases answer audio as fast as it is
    made (files, tests): nothing then plays it, so nothing can interrupt it.
    """

    def __init__(
        self,
        models: ModelManager,
        settings: Settings,
        emit: Emit,
        *,
        setup: ConversationSetup | None = None,
        history: list[ChatMessage] | None = None,
        on_history: Callable[[], Awaitable[None]] | None = None,
        frame_executor: Executor | None = None,
        realtime: bool = True,
    ) -> None:
        self.models = models
        self.settings = settings
        self.setup = setup or ConversationSetup()
        self.history: list[ChatMessage] = [] if history is None else history
        self._asr = question_asr(settings)
        self._partial_asr = self._asr.model_copy(update={"beam_size": 1})
        """Partials are only shown: greedy, about twice as fast."""
        self._emit = emit
        self._on_history = on_history
        self._frame_executor = frame_executor
        self._realtime = realtime
        self._listener: Listener | None = None
        self._utterances: asyncio.Queue[
            tuple[
                Audio, float, dict[str, float], asyncio.Task[Transcript] | None, AnswerAhead | None
            ]
        ] = asyncio.Queue()
        self._draft: tuple[float, asyncio.Task[Transcript]] | None = None
        """The speech end a draft transcript was started for, and that transcript."""
        self._partial: asyncio.Task[Transcript] | None = None
        self._ahead = AnswersAhead(self._answer, emit)
        self._question_open = False
        """The user is speaking a question (or pausing in it) whose turn has not ended."""
        self._prompter = Prompter(models, settings, self.setup.kb)
        self._to_show: list[asyncio.Task[Transcript]] = []
        """Drafts and partials of the open utterance, oldest first, not yet shown."""
        self._turns: asyncio.Task[None] | None = None
        self._reply_task: asyncio.Task[None] | None = None
        self._reply: Reply | None = None
        self._playing = asyncio.Event()
        """Cleared while someone speaks over the answer: its audio waits."""
        self._playing.set()
        self._paused_at: float | None = None

    async def __aenter__(self) -> ConversationEngine:
        vad = await asyncio.to_thread(self.models.vad)
        turn_model = await asyncio.to_thread(self._turn_model)
        self._listener = Listener(vad, turn_model, self.settings.vad, self.settings.conversation)
        self._turns = asyncio.create_task(self._take_turns())
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def _turn_model(self) -> SmartTurn | None:
        """The end-of-turn model; without one (not configured or not installed), the pause
        alone ends a turn."""
        name = self.settings.conversation.turn_model
        if not name:
            return None
        try:
            return self.models.turn_detector(name)
        except ModelNotFound as error:
            log.warning("end of turn by pause alone: %s", error)
            return None

    async def warm_up(self) -> None:
        """Load every model a turn needs now, so the first answer does not wait for them."""
        models = self.models
        await asyncio.to_thread(models.transcriber, self._asr)
        await asyncio.to_thread(models.chat_model)
        if self.setup.kb:
            await asyncio.to_thread(models.knowledge_base, self.setup.kb)
        await asyncio.to_thread(models.synthesizer, self.setup.voice or None)

    async def close(self) -> None:
        """Stop at once: an answer being spoken keeps what was heard, queued turns are dropped."""
        if self._turns is not None:
            self._turns.cancel()
        self._drop_ahead()
        while not self._utterances.empty():  # their answers begun ahead stop with them
            *_, ahead = self._utterances.get_nowait()
            if ahead is not None:
                ahead.task.cancel()
        await self.barge_in(notify=False)
        if self._turns is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._turns

    async def feed(self, frame: np.ndarray | bytes) -> None:
        """The next frame of live 16 kHz mono audio (silence included), as it is recorded:
        float samples, or little-endian PCM16 bytes (converted off the event loop too)."""
        assert self._listener is not None, "use the engine inside `async with`"
        listener = self._listener
        answering = self._answering
        idle = not self._prompter.busy and all(
            task is None or task.done() for task in (self._partial, self._draft_task)
        )

        def listen() -> Listened:
            samples = frame if isinstance(frame, np.ndarray) else pcm16_to_float(frame)
            return listener.hear(samples, answering, partial_wanted=idle)

        loop = asyncio.get_running_loop()
        heard = await loop.run_in_executor(self._frame_executor, listen)
        now = time.perf_counter()
        await self._show_partial()
        segmenter = listener.segmenter
        if not heard.utterances and segmenter.in_speech and segmenter.silence_s == 0:
            self._drop_ahead()  # the user goes on: the question is not the draft's
        if heard.speech_started is not None:
            self._question_open = True
            self._prompter.resume()
            await self._emit(SpeechStarted(heard.speech_started))
        read_ahead = self.settings.conversation.read_ahead
        if heard.draft is not None and (self._draft_task is None or self._draft_task.done()):
            self._prompter.hold()
            self._draft = (heard.draft.speech_end, self._recognise(heard.draft.audio))
            self._to_show.append(self._draft[1])
            if read_ahead:
                self._draft[1].add_done_callback(self._read_ahead)
        if heard.partial is not None:
            self._partial = self._recognise(heard.partial, self._partial_asr)
            self._to_show.append(self._partial)
            if read_ahead:
                self._partial.add_done_callback(self._read_ahead)
        if heard.pause_answer:
            self._pause(now)
        if heard.interrupt:
            await self.barge_in()
        for decision in heard.decisions:
            await self._emit(EndOfTurn(decision.at, decision.probability, decision.complete))
        for duration in heard.backchannels:
            await self._emit(Backchannel(duration))
        if heard.go_on:
            self._go_on(now)
        position = segmenter.position
        for utterance in heard.utterances:
            await self._emit(SpeechStopped(round(utterance.speech_end, 3)))
            ended_at = now - (position - utterance.speech_end) if self._realtime else now
            timings = {"end_of_turn_ms": round(utterance.wait_s * 1000, 1)}
            draft = self._draft
            recognised = draft[1] if draft and draft[0] == utterance.speech_end else None
            ahead = self._ahead.take(utterance.speech_end, timings)
            self._to_show.clear()  # the turn's transcript follows: a partial would repeat it
            self._question_open = False
            self._prompter.hold()
            self._utterances.put_nowait((utterance.audio, ended_at, timings, recognised, ahead))

    def _read_ahead(self, recognised: asyncio.Task[Transcript]) -> None:
        """The prompt for the words so far (a partial's, or a draft's while the turn is still
        open) goes to the LLM. The prompter is held while a draft is recognised and once the
        turn has ended: on two cores reading in would only slow what the answer waits for."""
        if (
            recognised.cancelled()
            or recognised.exception() is not None
            or not self._question_open
            or self._answering
            or self._ahead.current is not None
        ):
            return
        words = recognised.result().text.strip()
        draft = self._draft
        if draft is not None and recognised is draft[1]:  # the user paused, the turn goes on
            if words and self.settings.conversation.answer_ahead and self._quiet_since(draft[0]):
                self._ahead.begin(words, draft[0])
                return
            self._prompter.resume()
        if words:
            task = asyncio.create_task(
                asyncio.to_thread(self._prompter.read_ahead, words, list(self.history))
            )
            task.add_done_callback(lambda done: done.cancelled() or done.exception())

    def _quiet_since(self, speech_end: float) -> bool:
        """No speech has come since ``speech_end``, and the utterance is still open."""
        assert self._listener is not None
        segmenter = self._listener.segmenter
        return segmenter.in_speech and round(segmenter.voiced_end, 3) == speech_end

    def _drop_ahead(self) -> None:
        """The user went on speaking: the answer begun on their draft is stopped unheard."""
        if self._ahead.drop():
            self._prompter.resume()

    async def _recognition_done(self) -> None:
        """Until no Whisper decode runs (a partial begun just before the pause, say): beside
        it, llama.cpp and Whisper would slow each other many times over on two cores."""
        running = [task for task in (self._partial, self._draft_task) if task and not task.done()]
        if running:
            await asyncio.wait(running)

    @property
    def _draft_task(self) -> asyncio.Task[Transcript] | None:
        return None if self._draft is None else self._draft[1]

    async def _show_partial(self) -> None:
        """The newest draft or partial recognised since the last frame goes to the client."""
        ready = None
        while self._to_show and self._to_show[0].done():
            task = self._to_show.pop(0)
            if not task.cancelled() and task.exception() is None:
                ready = task.result().text.strip() or ready
        if ready:
            await self._emit(Partial(ready))

    def _recognise(self, audio: Audio, asr: AsrSettings | None = None) -> asyncio.Task[Transcript]:
        """Whisper on ``audio`` in a worker thread, started now (once a read-in under way has
        stopped: the two never share the cores) and awaited later, or never: a draft overtaken
        by more speech is dropped."""
        models, language, prompter = self.models, self.setup.language or None, self._prompter
        asr = asr or self._asr

        def recognise() -> Transcript:
            prompter.wait()
            return models.transcriber(asr).transcribe(audio, language)

        task = asyncio.create_task(asyncio.to_thread(recognise))
        task.add_done_callback(lambda done: done.cancelled() or done.exception())
        return task

    @property
    def _answering(self) -> bool:
        """An answer is under way (being written or spoken)."""
        return self._reply_task is not None and not self._reply_task.done()

    def _pause(self, now: float) -> None:
        """Someone speaks over the answer: hold its audio until it is clear whether they
        interrupt (``barge_in``) or not (``_go_on``)."""
        if self._answering:
            self._paused_at = now
            self._playing.clear()

    def _go_on(self, now: float) -> None:
        """The speech over the answer was short: the answer goes on where it paused."""
        reply = self._reply
        if self._paused_at is not None and reply is not None and reply.playback_start is not None:
            reply.playback_start += now - self._paused_at
        self._paused_at = None
        self._playing.set()

    async def barge_in(self, notify: bool = True) -> None:
        """The user spoke: stop the answer now and keep only what was heard of it."""
        task, reply = self._reply_task, self._reply
        heard_until = self._paused_at or time.perf_counter()
        self._paused_at = None
        self._playing.set()
        if task is None or task.done() or reply is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        spoken = reply.spoken_text(heard_until)
        if spoken:
            self.history.append(ChatMessage("assistant", spoken))
        await self._history_changed()
        if notify:
            await self._emit(BargeIn(spoken))

    async def turn(
        self,
        question: Audio,
        ended_at: float | None = None,
        timings: dict[str, float] | None = None,
        recognised: asyncio.Task[Transcript] | None = None,
        ahead: AnswerAhead | None = None,
    ) -> None:
        """One whole turn: recognise ``question`` (or take ``recognised``, its transcript
        already under way, or ``ahead``, its answer already begun), then answer it aloud.
        Returns when the answer has been spoken, was interrupted, or failed (a ``TurnFailed``
        event says why)."""
        ended_at = time.perf_counter() if ended_at is None else ended_at
        timings = dict(timings or {})
        started = time.perf_counter()
        if ahead is not None:
            self._reply, self._reply_task = ahead.reply, ahead.task  # stopped with the engine
            text = ahead.question
            timings["asr_ms"] = 0.0
            timings["answer_ahead_ms"] = round((started - ahead.started) * 1000, 1)
        else:
            try:
                text = (await (recognised or self._recognise(question))).text
            except LbrxError as error:  # the turn fails, the conversation goes on
                await self._emit(TurnFailed(str(error), type(error).__name__))
                return
            timings["asr_ms"] = elapsed_ms(started)
        await self._emit(Heard(text))
        if not text.strip():
            return
        if ahead is None:
            events, self._reply = HeldEvents(self._emit), Reply()
            task = asyncio.create_task(self._answer(text, timings, self._reply, events))
            self._reply_task = task
        else:
            events, task = ahead.events, ahead.task
            ahead.timings.update(timings)
        await events.release(ended_at)
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # the engine is closing, not just this answer
        except LbrxError as error:
            await self._emit(TurnFailed(str(error), type(error).__name__))

    async def _take_turns(self) -> None:
        while True:
            question, ended_at, timings, recognised, ahead = await self._utterances.get()
            await self.turn(question, ended_at, timings, recognised, ahead)

    async def _answer(
        self, question: str, timings: dict[str, float], reply: Reply, events: HeldEvents
    ) -> None:
        """Write and speak the answer; what it emits waits for ``events`` to be released (the
        end of the turn), and so does the question's place in the history."""
        model = await asyncio.to_thread(self.models.chat_model)
        started = time.perf_counter()
        prompt = await asyncio.to_thread(self._prompter.prompt, question, list(self.history))
        timings["retrieval_ms"] = elapsed_ms(started)
        pieces: asyncio.Queue[str | None] = asyncio.Queue()
        await self._recognition_done()
        working = self._prompter.llm_lock
        writer = asyncio.create_task(
            write_answer(model, prompt, question, self.settings, pieces, timings, events, working)
        )
        try:
            await events.released.wait()
            self._prompter.next_turn()
            self.history.append(ChatMessage("user", question))
            synthesizer = await asyncio.to_thread(self.models.synthesizer, self.setup.voice or None)
            playing = self._playing if self._realtime else None
            await speak(synthesizer, pieces, reply, events, timings, playing)
            await writer
        finally:
            writer.cancel()
        self.history.append(ChatMessage("assistant", " ".join(reply.sentences)))
        await self._history_changed()
        await events(TurnDone(timings))

    async def _history_changed(self) -> None:
        if self._on_history is not None:
            await self._on_history()
