"""Live audio sources: 16 kHz mono float32 chunks from a microphone, a file or stdin PCM."""

from __future__ import annotations

import queue
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from lbrxvoicepro.audio.io import load
from lbrxvoicepro.errors import LbrxError

RATE = 16000
CHUNK_SECONDS = 0.1


class SourceError(LbrxError):
    """A live source could not be opened or read."""


def file_source(path: Path, realtime: bool = True) -> Iterator[np.ndarray]:
    """A file played as if live; ``realtime`` paces chunks by the wall clock."""
    samples = load(path, RATE).samples
    step = int(RATE * CHUNK_SECONDS)
    started = time.monotonic()
    for first in range(0, len(samples), step):
        if realtime:
            delay = started + first / RATE - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        yield samples[first : first + step]


def pcm_source(stream: BinaryIO | None = None) -> Iterator[np.ndarray]:
    """Raw 16-bit little-endian mono PCM at 16 kHz (stdin by default)."""
    stream = stream or sys.stdin.buffer
    size = int(RATE * CHUNK_SECONDS) * 2
    remainder = b""
    while block := stream.read(size):
        block = remainder + block
        usable = len(block) - len(block) % 2
        remainder = block[usable:]
        yield pcm16_to_float(block[:usable])


def pcm16_to_float(data: bytes) -> np.ndarray:
    """Little-endian 16-bit samples as float32 in [-1, 1); a trailing odd byte is ignored."""
    usable = len(data) - len(data) % 2
    return np.frombuffer(data[:usable], dtype="<i2").astype(np.float32) / 32768.0


def microphone_source(device: int | None = None) -> Iterator[np.ndarray]:
    """The sound card, through PortAudio (``lbrxvoicepro[play]`` installs sounddevice).

    The device is opened here, so a missing one is reported before recording starts.
    """
    try:
        import sounddevice
    except (ImportError, OSError) as error:
        raise SourceError(
            f"no microphone access ({error}); pip install 'lbrxvoicepro[play]', or record from "
            "a file (--from-file) or stdin PCM (--from-stdin)"
        ) from error
    chunks: queue.Queue[np.ndarray] = queue.Queue()
    try:
        stream = sounddevice.InputStream(
            samplerate=RATE,
            channels=1,
            dtype="float32",
            device=device,
            blocksize=int(RATE * CHUNK_SECONDS),
            callback=lambda data, frames, when, status: chunks.put(data[:, 0].copy()),
        )
    except Exception as error:  # PortAudio reports a missing device as a generic error
        raise SourceError(f"cannot open input device {device}: {error}") from error
    return _drain(stream, chunks)


def _drain(stream: Any, chunks: queue.Queue[np.ndarray]) -> Iterator[np.ndarray]:
    with stream:
        while True:
            yield chunks.get()
