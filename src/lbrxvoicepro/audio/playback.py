"""Speakers that can be silenced at once: answer audio is queued as it arrives and a barge-in
drops what has not been played yet."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

import numpy as np

from lbrxvoicepro.audio.sources import SourceError


class Speaker:
    """The default output device through PortAudio (``lbrxvoicepro[play]``), opened at the
    rate of the first audio it is given."""

    def __init__(self, device: int | None = None) -> None:
        try:
            import sounddevice
        except (ImportError, OSError) as error:
            raise SourceError(
                f"no audio output ({error}); pip install 'lbrxvoicepro[play]', "
                "or answer into a file (--from-file QUESTION.wav --to-file ANSWER.wav)"
            ) from error
        try:
            sounddevice.query_devices(device, kind="output")
        except Exception as error:  # PortAudio reports a missing device as a generic error
            raise SourceError(f"no audio output device ({error})") from error
        self._sounddevice = sounddevice
        self._device = device
        self._stream: Any = None
        self._rate = 0
        self._queued: deque[np.ndarray] = deque()
        self._lock = threading.Lock()

    def play(self, samples: np.ndarray, sample_rate: int) -> None:
        if sample_rate != self._rate:
            self.close()
            try:
                self._stream = self._sounddevice.OutputStream(
                    samplerate=sample_rate,
                    channels=1,
                    dtype="float32",
                    device=self._device,
                    callback=self._fill,
                )
                self._stream.start()
            except Exception as error:  # PortAudio reports a missing device as a generic error
                raise SourceError(f"cannot open output device {self._device}: {error}") from error
            self._rate = sample_rate
        with self._lock:
            self._queued.append(np.asarray(samples, dtype=np.float32))

    def stop(self) -> None:
        """Drop everything not played yet."""
        with self._lock:
            self._queued.clear()

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream, self._rate = None, 0

    def _fill(self, out: np.ndarray, frames: int, when: Any, status: Any) -> None:
        written = 0
        with self._lock:
            while written < frames and self._queued:
                head = self._queued[0]
                take = min(frames - written, len(head))
                out[written : written + take, 0] = head[:take]
                written += take
                if take == len(head):
                    self._queued.popleft()
                else:
                    self._queued[0] = head[take:]
        out[written:, 0] = 0.0
