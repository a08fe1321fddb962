"""Silero VAD on onnxruntime: speech probability per 512-sample window at 16 kHz.

Uses Silero's sequence export, which runs many windows in one ONNX call with the recurrent state
carried between calls, so a whole file costs a handful of calls and a live stream of any chunk
size gives the same probabilities as the window-by-window model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

SAMPLE_RATE = 16000
WINDOW = 512
CONTEXT = 64
MAX_WINDOWS_PER_CALL = 512


def single_thread_session(model_path: Path) -> Any:
    """An ONNX Runtime CPU session on one thread: small models called per frame, from many
    streams at once, gain nothing from more and would take cores from the rest."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(
        str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
    )


class SileroVAD:
    """The loaded model; thread-safe. Each input or live stream gets its own ``VadStream``."""

    def __init__(self, model_path: Path) -> None:
        self.session = single_thread_session(model_path)

    def stream(self) -> VadStream:
        return VadStream(self.session)

    def probabilities(self, samples: np.ndarray) -> np.ndarray:
        """All window probabilities of one whole input (the last window zero-padded)."""
        stream = self.stream()
        return np.concatenate([stream.feed(samples), stream.flush()])


class VadStream:
    """Recurrent state, context and leftover samples of one input, carried across chunks."""

    def __init__(self, session: Any) -> None:
        self._session = session
        self._hidden = np.zeros((1, 1, 128), dtype=np.float32)
        self._cell = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)

    def feed(self, samples: np.ndarray) -> np.ndarray:
        """Probabilities for every whole window completed by these 16 kHz samples."""
        audio = np.concatenate([self._pending, np.asarray(samples, dtype=np.float32)])
        whole = len(audio) // WINDOW
        self._pending = audio[whole * WINDOW :]
        if whole == 0:
            return np.zeros(0, dtype=np.float32)
        return self._run(audio[: whole * WINDOW].reshape(whole, WINDOW))

    def flush(self) -> np.ndarray:
        """The last partial window, zero-padded (nothing if the input ended on a window)."""
        if len(self._pending) == 0:
            return np.zeros(0, dtype=np.float32)
        frame = np.zeros((1, WINDOW), dtype=np.float32)
        frame[0, : len(self._pending)] = self._pending
        self._pending = np.zeros(0, dtype=np.float32)
        return self._run(frame)

    def _run(self, frames: np.ndarray) -> np.ndarray:
        results = []
        for first in range(0, len(frames), MAX_WINDOWS_PER_CALL):
            block = frames[first : first + MAX_WINDOWS_PER_CALL]
            contexts = np.empty((len(block), CONTEXT), dtype=np.float32)
            contexts[0] = self._context
            contexts[1:] = block[:-1, -CONTEXT:]
            self._context = block[-1, -CONTEXT:].copy()
            values, self._hidden, self._cell = self._session.run(
                ["speech_probs", "hn", "cn"],
                {"input": np.hstack([contexts, block]), "h": self._hidden, "c": self._cell},
            )
            results.append(values.reshape(-1))
        return np.concatenate(results).astype(np.float32, copy=False)
