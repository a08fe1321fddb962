"""``collect``: record speech live (microphone, a file played live, stdin), freely or as
prompted reading, into a dataset."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import numpy as np
import typer

from lbrxvoicepro.cli.dataset import (
    DatasetOption,
    SpeakerLanguageOption,
    SpeakerOption,
    builder_for,
    ensure_speaker,
    open_store,
)
from lbrxvoicepro.config import Settings
from lbrxvoicepro.errors import ConfigError

if TYPE_CHECKING:
    from lbrxvoicepro.dataset.builder import DatasetBuilder


def collect(
    ctx: typer.Context,
    speaker_id: SpeakerOption,
    hours: Annotated[float, typer.Option(help="Stop after this much speech.")] = float("inf"),
    device: Annotated[int | None, typer.Option(help="Input device number.")] = None,
    from_file: Annotated[
        Path | None, typer.Option("--from-file", help="Play a file as the live source.")
    ] = None,
    from_stdin: Annotated[
        bool, typer.Option("--from-stdin", help="Read 16 kHz mono PCM16 from stdin.")
    ] = False,
    prompts: Annotated[
        str | None,
        typer.Option(help="Prompted reading: a file of sentences, or 'pl' for the bundled set."),
    ] = None,
    max_cer: Annotated[
        float, typer.Option("--max-cer", help="Prompted reading: keep takes with CER up to this.")
    ] = 0.25,
    language: SpeakerLanguageOption = None,
    dataset: DatasetOption = None,
) -> None:
    """Record speech (microphone by default), cut it into utterances, transcribe and store.

    Stops after --hours of speech, at the end of the source, or on Ctrl-C (the utterance in
    progress is kept).
    """
    from lbrxvoicepro.audio.sources import file_source, microphone_source, pcm_source
    from lbrxvoicepro.dataset.collect import CollectStatus
    from lbrxvoicepro.dataset.collect import collect as run

    settings: Settings = ctx.obj
    if from_file and from_stdin:
        raise ConfigError("choose one source: --from-file or --from-stdin")
    store = open_store(settings, dataset, create=True)
    ensure_speaker(store, speaker_id, settings, language)
    source = (
        file_source(from_file)
        if from_file
        else pcm_source()
        if from_stdin
        else microphone_source(device)
    )

    live, counted = sys.stderr.isatty(), [(-1, -1)]

    def show(status: CollectStatus) -> None:
        """On a terminal one line, redrawn; in a pipe or log, a line per stored utterance."""
        line = (
            f"speech {status.speech_seconds / 60:6.1f} min | accepted {status.accepted:5d} | "
            f"rejected {status.rejected:4d}"
        )
        if live:
            sys.stderr.write(f"\r{line} | level {status.level_dbfs:6.1f} dBFS")
        elif counted[0] != (status.accepted, status.rejected):
            counted[0] = (status.accepted, status.rejected)
            sys.stderr.write(f"{line}\n")
        sys.stderr.flush()

    if prompts is not None:
        _prompted(builder_for(settings, store), source, speaker_id, prompts, max_cer)
        return
    status = run(builder_for(settings, store), source, speaker_id, hours * 3600, show)
    if live:
        sys.stderr.write("\n")
    if status.interrupted:
        typer.echo("stopped; the utterance in progress was kept", err=True)


def _prompted(
    builder: DatasetBuilder,
    source: Iterable[np.ndarray],
    speaker_id: str,
    prompts: str,
    max_cer: float,
) -> None:
    from lbrxvoicepro.dataset.collect import (
        PromptAsk,
        PromptOutcome,
        collect_prompted,
        load_prompts,
        prompts_read,
    )

    sentences = load_prompts(prompts)

    def ask(next_prompt: PromptAsk) -> None:
        again = f", take {next_prompt.attempt}" if next_prompt.attempt > 1 else ""
        typer.echo(
            f"\n[{next_prompt.number}/{next_prompt.total}{again}] read: {next_prompt.prompt}",
            err=True,
        )

    def tell(outcome: PromptOutcome) -> None:
        verdict = (
            "kept"
            if outcome.kept
            else f"skipped after {outcome.attempts} takes"
            if outcome.skipped
            else "please read it again"
        )
        typer.echo(f"  heard: {outcome.heard or '(nothing)'}", err=True)
        typer.echo(f"  CER {outcome.cer:.2f}: {verdict}", err=True)

    before = len(prompts_read(builder.store, speaker_id) & set(sentences))
    if before:
        typer.echo(f"resuming: {before} of {len(sentences)} prompts already read", err=True)
    outcomes = collect_prompted(builder, source, speaker_id, sentences, max_cer, 3, ask, tell)
    kept = sum(o.kept for o in outcomes)
    left = len(set(sentences) - prompts_read(builder.store, speaker_id))
    typer.echo(
        f"{kept} of {len(outcomes)} prompts kept this session; {left} of {len(sentences)} "
        "left to read",
        err=True,
    )
