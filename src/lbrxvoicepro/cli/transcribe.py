"""``lbrxvoicepro transcribe``: files in, text, JSON or subtitles out."""

from __future__ import annotations

import contextlib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from lbrxvoicepro.asr import FORMATS, Transcriber, render
from lbrxvoicepro.asr.formats import LiveRender
from lbrxvoicepro.audio import load
from lbrxvoicepro.config import Settings
from lbrxvoicepro.errors import AudioDecodeError
from lbrxvoicepro.runtime import ModelManager
from lbrxvoicepro.types import Audio, Transcript


@dataclass
class _Outcome:
    audio_seconds: float = 0.0
    done: int = 0
    failures: list[str] = field(default_factory=list)


def transcribe(
    ctx: typer.Context,
    files: Annotated[
        list[Path], typer.Argument(help="Audio files (wav, flac, mp3, ogg, opus, m4a, webm).")
    ],
    language: Annotated[
        str | None,
        typer.Option("--language", "-l", help="Language code, or 'auto' to detect. [default: pl]"),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            help="Catalog name (whisper-base, whisper-tiny.en), model directory or hub id.",
        ),
    ] = None,
    format: Annotated[
        str, typer.Option("--format", "-f", help=f"One of {', '.join(FORMATS)}.")
    ] = "txt",
    word_timestamps: Annotated[
        bool, typer.Option("--word-timestamps", help="Per-word times in json, srt and vtt.")
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Output file (one input) or directory (several). Default: stdout.",
        ),
    ] = None,
    batch: Annotated[
        bool,
        typer.Option("--batch", help="Decode all files in shared batches (faster for many files)."),
    ] = False,
) -> None:
    """Transcribe audio files with Whisper, gated by Silero VAD.

    A bad file is reported and skipped; the others are still transcribed, and the command
    exits with status 1 if any file failed.
    """
    if format not in FORMATS:
        raise typer.BadParameter(
            f"{format!r}; choose one of {', '.join(FORMATS)}", param_hint="--format"
        )
    settings: Settings = ctx.obj
    asr = settings.asr.model_copy(update={"model": model} if model else {})
    if batch and format in ("srt", "vtt") and not word_timestamps:
        asr = asr.model_copy(update={"batch_segment_timestamps": True})
    # Whisper loads in a worker (about a second, mostly outside the GIL) while files decode.
    pool = ThreadPoolExecutor(max_workers=1)
    loading = pool.submit(ModelManager(settings).transcriber, asr)
    pool.shutdown(wait=False)
    outcome = _Outcome()
    started = time.perf_counter()

    def emit(path: Path, transcript: Transcript) -> None:
        _write(render(transcript, format, word_timestamps), path, output, format, len(files))
        outcome.audio_seconds += transcript.duration
        outcome.done += 1

    with _progress(enabled=len(files) > 1) as progress:
        task = progress.add_task("transcribing", total=len(files))
        loaded: list[tuple[Path, Audio]] = []
        for path in files:
            try:
                audio = load(path)
            except AudioDecodeError as error:
                outcome.failures.append(str(error))
                typer.echo(f"error: {error}", err=True)
                progress.advance(task)
                continue
            if batch:
                loaded.append((path, audio))
                continue
            if output is None and format != "json":  # to stdout, as it is decoded
                transcript = _transcribe_live(
                    loading.result(), audio, language, format, word_timestamps, path, len(files)
                )
                outcome.audio_seconds += transcript.duration
                outcome.done += 1
            else:
                emit(path, loading.result().transcribe(audio, language))
            progress.advance(task)
        if loaded:
            results = loading.result().transcribe_batch([a for _, a in loaded], language)
            for (path, _), transcript in zip(loaded, results, strict=True):
                emit(path, transcript)
                progress.advance(task)
    _summary(outcome, time.perf_counter() - started)


def _transcribe_live(
    transcriber: Transcriber,
    audio: Audio,
    language: str | None,
    format: str,
    word_timestamps: bool,
    source: Path,
    count: int,
) -> Transcript:
    """Each segment written to stdout as soon as Whisper has decoded it (a terminal or a pipe
    sees the transcript grow); the output equals what the finished transcript renders to."""
    live = LiveRender(format, word_timestamps)
    prefix = f"{source}: " if count > 1 and format == "txt" else ""
    typer.echo(prefix + live.start(), nl=False)
    transcript = transcriber.transcribe(
        audio, language, on_segment=lambda segment: typer.echo(live.segment(segment), nl=False)
    )
    typer.echo(live.end(), nl=False)
    return transcript


def _progress(enabled: bool) -> Any:
    """A progress bar over files on stderr; rich is imported only when there is more than one."""
    if not enabled:
        return contextlib.nullcontext(_NoProgress())
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
    )


class _NoProgress:
    def add_task(self, description: str, total: int) -> int:
        return 0

    def advance(self, task: int) -> None:
        return None


def _write(text: str, source: Path, output: Path | None, format: str, count: int) -> None:
    if output is None:
        if count > 1 and format == "txt":
            text = f"{source}: {text}"
        typer.echo(text, nl=False)
        return
    target = output / f"{source.stem}.{format}" if count > 1 or output.is_dir() else output
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.partial")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(target)


def _summary(outcome: _Outcome, elapsed: float) -> None:
    speed = outcome.audio_seconds / elapsed if elapsed else 0.0
    typer.echo(
        f"transcribed {outcome.done} file(s), {outcome.audio_seconds:.1f} s of audio "
        f"in {elapsed:.1f} s ({speed:.1f}x real time)",
        err=True,
    )
    if outcome.failures:
        typer.echo(f"{len(outcome.failures)} file(s) failed:", err=True)
        for failure in outcome.failures:
            typer.echo(f"  {failure}", err=True)
        raise typer.Exit(1)
