"""faster-whisper's model with the encoder window fitted to the audio it is given.

Whisper's encoder always sees 30 s: a 2 s clip is padded with 28 s of "silence" and costs as
much as 30 s of speech (0.4 s of the ~0.8 s a short clip takes here). Cutting the window to the
audio plus some silence costs far less (0.05 s for 10 s): attention grows with the square of
the length. Measured on real Polish speech (bench/asr_levers.py, BENCHMARKS.md), a window of at
least 10 s decodes as well as 30 s; what a short clip needs is about four times its own length
(its speech a quarter of what the encoder sees): on 360 read clips, windows of at least 5 s
instead of 10 s gave 3.6% more word errors, four times each clip (at least 4 s) 1.3% fewer and
~10% less time; no clip decodes well in under 4 s.

faster-whisper pads a window with zeros in the normalised log-mel domain, which is not what
Whisper saw in training (the log-mel of digital silence: the clip's maximum log10 energy minus 8,
i.e. 2.0 below its normalised maximum); the padding is replaced with that, as openai-whisper
computes it.

The window is a whole number of seconds: batched word alignment reads ``ceil(duration)``
seconds of encoder output, and past the end of a shorter window CTranslate2 aborts the process.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
from faster_whisper import WhisperModel

FRAMES_PER_SECOND = 100
FULL_WINDOW = 3000
SHORTEST_WINDOW = 400
"""4 s: in 3 s windows, clips of under 1.8 s had 13% more word errors (0.3720 vs 0.3288)."""
SILENCE_BELOW_MAX = 2.0
_fixed = threading.local()


@contextlib.contextmanager
def window_at_least(seconds: float) -> Iterator[None]:
    """In this thread, encoder windows of at least ``seconds``: a clip then sees the same
    window whichever clips share its batch, and so decodes to the same text."""
    _fixed.frames = int(seconds * FRAMES_PER_SECOND)
    try:
        yield
    finally:
        _fixed.frames = 0


class WindowedWhisperModel(WhisperModel):  # type: ignore[misc]
    """``WhisperModel`` whose encoder sees the audio and silence up to ``min_window_s``, or for
    short audio ``window_per_audio`` times its length."""

    def __init__(
        self, *args: Any, min_window_s: float = 10.0, window_per_audio: float = 0.0, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.min_window_frames = min(FULL_WINDOW, int(min_window_s * FRAMES_PER_SECOND))
        self.window_per_audio = window_per_audio

    def encode(self, features: np.ndarray) -> Any:
        fixed = getattr(_fixed, "frames", 0)
        if fixed:
            return super().encode(fit_window(features, max(self.min_window_frames, fixed)))
        return super().encode(fit_window(features, self.min_window_frames, self.window_per_audio))


def fit_window(features: np.ndarray, min_frames: int, per_content: float = 0.0) -> np.ndarray:
    """Features (mels x 3000, or a batch of them) cut to the longest content, rounded up to whole
    seconds, or ``min_frames`` (or, where less, ``per_content`` times the longest content, at
    least 4 s); zero padding replaced with silence."""
    batch = features if features.ndim == 3 else features[None]
    filled = np.any(batch != 0, axis=1)
    contents = [int(np.flatnonzero(row)[-1]) + 1 if row.any() else 0 for row in filled]
    longest_content = max(contents)
    longest = _whole_seconds(longest_content)
    if per_content:
        scaled = max(SHORTEST_WINDOW, _whole_seconds(math.ceil(per_content * longest_content)))
        min_frames = min(min_frames, scaled)
    frames = min(FULL_WINDOW, max(min_frames + min_frames % 2, longest))
    fitted = np.array(batch[:, :, :frames], dtype=np.float32)
    for item, content in enumerate(contents):
        if 0 < content < frames:
            fitted[item, :, content:] = fitted[item, :, :content].max() - SILENCE_BELOW_MAX
    return fitted if features.ndim == 3 else fitted[0]


def _whole_seconds(frames: int) -> int:
    return -(-frames // FRAMES_PER_SECOND) * FRAMES_PER_SECOND
