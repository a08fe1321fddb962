"""``lbrxvoicepro synthesize``: text in, speech out (file, stdout or speakers)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, BinaryIO

import numpy as np
import typer

from lbrxvoicepro.audio import encode
from lbrxvoicepro.audio.io import ENCODE_FORMATS
from lbrxvoicepro.config import Settings
from lbrxvoicepro.errors import SynthesisError
from lbrxvoicepro.runtime import ModelManager
from lbrxvoicepro.types import Audio

STREAMABLE = ("pcm", "wav", "flac", "ogg")


VoiceOption = Annotated[
    str | None,
    typer.Option(
        "--voice",
        "-v",
        help="espeak:pl | piper:NAME_OR_PATH | csm:PATH [default: the tts.voice setting, "
        "espeak:pl]",
    ),
]


def synthesize(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="Text to speak, or '-' to read it from stdin.")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Audio file to write, or '-' for stdout."),
    ] = None,
    voice: VoiceOption = None,
    format: Annotated[
        str | None,
        typer.Option(
            "--format", "-f", help=f"One of {', '.join(ENCODE_FORMATS)} [default: from -o, wav]"
        ),
    ] = None,
    stream: Annotated[
        bool, typer.Option("--stream", help="Write each sentence as soon as it is ready.")
    ] = False,
    play: Annotated[bool, typer.Option("--play", help="Play on the default speakers.")] = False,
) -> None:
    """Speak text with eSpeak NG (Polish by default), a Piper voice or Sesame CSM."""
    if text == "-":
        text = sys.stdin.read()
    if output is None and not play:
        raise typer.BadParameter("give --output FILE (or '-') or --play", param_hint="--output")
    suffix = output.suffix.lstrip(".").lower() if output and str(output) != "-" else ""
    if format and output and suffix in ENCODE_FORMATS and suffix != format:
        raise typer.BadParameter(
            f"{format!r} audio in a file named {output.name!r}: players would take it for "
            f"{suffix}; use -o with a .{format} name or drop --format",
            param_hint="--format",
        )
    format = format or suffix or "wav"
    if format not in ENCODE_FORMATS:
        raise typer.BadParameter(
            f"{format!r}; choose one of {', '.join(ENCODE_FORMATS)}", param_hint="--format"
        )
    if stream and format not in STREAMABLE:
        raise typer.BadParameter(f"--stream writes {', '.join(STREAMABLE)}", param_hint="--format")
    settings: Settings = ctx.obj
    synthesizer = ModelManager(settings).synthesizer(voice)
    started = time.perf_counter()
    first_audio: float | None = None
    pieces: list[np.ndarray] = []
    writer = _StreamWriter(output, format, synthesizer.sample_rate) if stream else None
    for chunk in synthesizer.stream(text):
        if first_audio is None:
            first_audio = time.perf_counter() - started
        pieces.append(chunk.samples)
        if writer is not None:
            writer.write(chunk.samples)
    audio = Audio(np.concatenate(pieces), synthesizer.sample_rate)
    if writer is not None:
        writer.close()
    elif output is not None:
        if str(output) == "-":
            encode(audio, sys.stdout.buffer, format)
            sys.stdout.buffer.flush()
        else:
            encode(audio, output, format)
    elapsed = time.perf_counter() - started
    typer.echo(
        f"{audio.duration:.1f} s of speech in {elapsed:.2f} s "
        f"(first audio after {1000 * (first_audio or 0):.0f} ms, "
        f"{audio.duration / elapsed:.0f}x real time)",
        err=True,
    )
    if play:
        _play(audio)


class _StreamWriter:
    """Appends chunks to a file or stdout as they come; the file appears whole at the end."""

    def __init__(self, output: Path | None, format: str, sample_rate: int) -> None:
        import soundfile as sf

        container, subtype = ENCODE_FORMATS[format]
        self._temporary: Path | None = None
        self._target = output
        handle: BinaryIO | str
        if output is None or str(output) == "-":
            handle = sys.stdout.buffer
        else:
            self._temporary = output.with_name(f".{output.name}.partial")
            handle = str(self._temporary)
        self._file = sf.SoundFile(
            handle, "w", samplerate=sample_rate, channels=1, format=container, subtype=subtype
        )

    def write(self, samples: np.ndarray) -> None:
        self._file.write(np.clip(samples, -1.0, 1.0))
        self._file.flush()

    def close(self) -> None:
        self._file.close()
        if self._temporary is not None and self._target is not None:
            self._temporary.replace(self._target)


def _play(audio: Audio) -> None:
    try:
        import sounddevice
    except (ImportError, OSError) as error:
        raise SynthesisError(
            f"cannot play: no audio output available ({error}); "
            "pip install 'lbrxvoicepro[play]' and check the sound device, or use -o FILE"
        ) from error
    try:
        sounddevice.play(audio.samples, audio.sample_rate, blocking=True)
    except Exception as error:  # PortAudio reports a missing device as a generic error
        raise SynthesisError(f"cannot play: no usable output device ({error})") from error
