"""``lbrxvoicepro talk``: a voice conversation in the terminal, over the conversation engine.

Live: microphone in, speakers out, barge-in by speaking over the answer. With ``--from-file``:
each file is one spoken question, answered in turn, without audio devices.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import numpy as np
import typer

from lbrxvoicepro.cli.kb import LlmOption, ModelOption, require_kb, with_llm
from lbrxvoicepro.cli.synthesize import VoiceOption
from lbrxvoicepro.config import Settings

if TYPE_CHECKING:
    from lbrxvoicepro.conversation import ConversationSetup, Event
    from lbrxvoicepro.runtime import ModelManager


def talk(
    ctx: typer.Context,
    kb: Annotated[
        str | None,
        typer.Option("--kb", help="Knowledge base to answer from; left out, none."),
    ] = None,
    voice: VoiceOption = None,
    llm: LlmOption = None,
    model: ModelOption = None,
    language: Annotated[
        str | None,
        typer.Option(
            help="Language spoken ('pl', 'en', ...).", show_default="asr.language setting"
        ),
    ] = None,
    from_file: Annotated[
        list[Path] | None,
        typer.Option(
            "--from-file",
            help="A spoken question (wav, flac, mp3, ...); repeat for several turns. "
            "No microphone or speakers are used.",
        ),
    ] = None,
    to_file: Annotated[
        Path | None,
        typer.Option(help="With --from-file: write the spoken answers here (wav, flac, ogg)."),
    ] = None,
) -> None:
    """Talk with the assistant: it listens, answers from your knowledge base and speaks."""
    from lbrxvoicepro.conversation import ConversationSetup
    from lbrxvoicepro.runtime import ModelManager

    settings: Settings = with_llm(ctx.obj, llm, model)
    if to_file is not None and not from_file:
        raise typer.BadParameter("needs --from-file (live answers go to the speakers)")
    if kb is not None:
        require_kb(settings, kb)
    setup = ConversationSetup(language or "", voice or "", kb or "")
    models = ModelManager(settings)
    try:
        if from_file:
            failures = asyncio.run(_from_files(models, settings, setup, from_file, to_file))
            raise typer.Exit(1 if failures else 0)
        try:
            asyncio.run(_live(models, settings, setup))
        except KeyboardInterrupt:
            typer.echo("\nconversation ended")
    finally:
        models.unload()


class TurnPrinter:
    """Prints the conversation's events: what was heard, the answer as it is written, timings.
    On a terminal the words heard so far show on a line that the turn's transcript replaces."""

    def __init__(self) -> None:
        self.live = sys.stdout.isatty()
        self.failures = 0
        self.answering = False
        self.audio: list[np.ndarray] = []
        self.sample_rate = 0

    async def __call__(self, event: Event) -> None:
        from lbrxvoicepro.conversation import (
            AnswerAudio,
            AnswerDelta,
            BargeIn,
            Heard,
            Partial,
            TurnDone,
            TurnFailed,
        )

        if isinstance(event, Partial) and self.live and not self.answering:
            typer.secho(f"\r\x1b[Kyou: {event.text} …", dim=True, nl=False)
        elif isinstance(event, Heard):
            if self.live:
                typer.echo("\r\x1b[K", nl=False)
            typer.echo(f"you: {event.text}" if event.text.strip() else "(nothing recognised)")
        elif isinstance(event, AnswerDelta):
            if not self.answering:
                typer.echo("assistant: ", nl=False)
                self.answering = True
            typer.echo(event.text, nl=False)
        elif isinstance(event, AnswerAudio):
            self.audio.append(event.samples)
            self.sample_rate = event.sample_rate
        elif isinstance(event, BargeIn):
            self._end_answer(" [interrupted]")
        elif isinstance(event, TurnDone):
            self._end_answer()
            typer.secho(_timings(event.timings), dim=True)
        elif isinstance(event, TurnFailed):
            self._end_answer()
            self.failures += 1
            typer.echo(f"error: {event.message}", err=True)

    def _end_answer(self, suffix: str = "") -> None:
        if self.answering:
            typer.echo(suffix)
            self.answering = False


async def _from_files(
    models: ModelManager,
    settings: Settings,
    setup: ConversationSetup,
    paths: list[Path],
    to_file: Path | None,
) -> int:
    """Each file one turn; a file that cannot be read is reported and skipped."""
    from lbrxvoicepro.audio import encode, load
    from lbrxvoicepro.conversation import ConversationEngine
    from lbrxvoicepro.errors import InputError
    from lbrxvoicepro.types import Audio

    printer = TurnPrinter()
    answers: list[np.ndarray] = []
    engine = ConversationEngine(models, settings, printer, setup=setup, realtime=False)
    async with engine:
        await engine.warm_up()
        for path in paths:
            try:
                question = await asyncio.to_thread(load, path)
            except InputError as error:  # it names the file
                typer.echo(f"error: {error}", err=True)
                printer.failures += 1
                continue
            except OSError as error:
                typer.echo(f"error: {path}: {error.strerror or error}", err=True)
                printer.failures += 1
                continue
            await engine.turn(question)
            if printer.audio:
                answers.append(np.concatenate(printer.audio))
                printer.audio.clear()
    if to_file is not None:
        if not answers:
            typer.echo(f"error: no answer was spoken; {to_file} not written", err=True)
            return printer.failures + 1
        pause = np.zeros(printer.sample_rate // 2, np.float32)
        spoken = np.concatenate([part for answer in answers for part in (answer, pause)][:-1])
        await asyncio.to_thread(encode, Audio(spoken, printer.sample_rate), to_file)
        typer.echo(f"answers written to {to_file}")
    return printer.failures


async def _live(models: ModelManager, settings: Settings, setup: ConversationSetup) -> None:
    """Microphone frames into the engine; answer audio to the speakers, silenced on barge-in."""
    from lbrxvoicepro.audio.playback import Speaker
    from lbrxvoicepro.audio.sources import microphone_source
    from lbrxvoicepro.conversation import AnswerAudio, BargeIn, ConversationEngine

    speaker = Speaker()
    frames = microphone_source()
    printer = TurnPrinter()

    async def show_and_play(event: Event) -> None:
        await printer(event)
        if isinstance(event, AnswerAudio):
            printer.audio.clear()
            speaker.play(event.samples, event.sample_rate)
        elif isinstance(event, BargeIn):
            speaker.stop()

    loop = asyncio.get_running_loop()
    heard: asyncio.Queue[np.ndarray] = asyncio.Queue()

    def record() -> None:
        for frame in frames:
            loop.call_soon_threadsafe(heard.put_nowait, frame)

    engine = ConversationEngine(models, settings, show_and_play, setup=setup)
    try:
        async with engine:
            typer.secho("loading models…", dim=True)
            await engine.warm_up()
            threading.Thread(target=record, name="lbrx-microphone", daemon=True).start()
            typer.secho("listening; speak (Ctrl-C ends)", dim=True)
            while True:
                await engine.feed(await heard.get())
    finally:
        speaker.close()


def _timings(timings: dict[str, float]) -> str:
    names = {
        "asr_ms": "recognition",
        "retrieval_ms": "retrieval",
        "llm_first_token_ms": "first token",
        "answer_ahead_ms": "answer begun ahead by",
        "first_audio_ms": "voice to voice",
    }
    return "  ".join(
        f"{label} {timings[key]:.0f} ms" for key, label in names.items() if key in timings
    )
