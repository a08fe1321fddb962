"""Cut speech into utterances from Silero's per-window probabilities.

One state machine serves a whole file and a live stream alike: probabilities go in window by
window and closed utterances come out. Speech opens at ``threshold`` and is held while the
probability stays above ``threshold - 0.15`` (Silero's hysteresis); a pause longer than
``max_pause_ms`` closes it; bursts shorter than ``min_speech_ms`` are dropped; an utterance
reaching ``max_utterance_s`` is split at its longest inner pause (or cut hard if it has none);
``padding_ms`` of context is kept on each side without overlapping the neighbour.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from lbrxvoicepro.config import VadSettings
from lbrxvoicepro.types import Audio, SpeechChunk, SpeechSpan
from lbrxvoicepro.vad.silero import SAMPLE_RATE, WINDOW, SileroVAD, VadStream

WINDOW_SECONDS = WINDOW / SAMPLE_RATE
HYSTERESIS = 0.15
MIN_SPLIT_PAUSE_WINDOWS = 3


class UtteranceSegmenter:
    """Probabilities in, padded speech spans (seconds) out."""

    def __init__(self, settings: VadSettings) -> None:
        self.settings = settings
        self._max_pause = max(1, round(settings.max_pause_ms / 1000 / WINDOW_SECONDS))
        # the padding on both sides counts: no utterance is longer than max_utterance_s
        speech_s = settings.max_utterance_s - 2 * settings.padding_ms / 1000
        self._max_length = max(2, int(speech_s / WINDOW_SECONDS))
        self._min_speech = settings.min_speech_ms / 1000
        self._padding = settings.padding_ms / 1000
        self._reset()

    def _reset(self) -> None:
        self._position = 0
        self._start: int | None = None
        self._last_voiced = 0
        self._longest_pause: tuple[int, int] | None = None
        self._previous_end = 0.0

    @property
    def in_speech(self) -> bool:
        return self._start is not None

    @property
    def speech_s(self) -> float:
        """How long the utterance in progress has been voiced so far, up to its last voiced
        window (0 in silence)."""
        if self._start is None:
            return 0.0
        return (self._last_voiced + 1 - self._start) * WINDOW_SECONDS

    @property
    def silence_s(self) -> float:
        """How long the utterance in progress has been silent (0 in silence between them)."""
        if self._start is None:
            return 0.0
        return (self._position - self._last_voiced - 1) * WINDOW_SECONDS

    @property
    def voiced_end(self) -> float:
        """Where the utterance in progress was last voiced, in seconds (0 in silence)."""
        return 0.0 if self._start is None else (self._last_voiced + 1) * WINDOW_SECONDS

    def close_now(self) -> list[SpeechSpan]:
        """End the utterance in progress at its last voiced window, without waiting for the
        pause to reach ``max_pause_ms`` (someone else decided the speaker is done)."""
        if self._start is None:
            return []
        spans = self._close(self._start, self._last_voiced + 1)
        self._start = None
        return spans

    def push(self, probabilities: Iterable[float]) -> list[SpeechSpan]:
        closed: list[SpeechSpan] = []
        for probability in probabilities:
            closed.extend(self._step(float(probability)))
            self._position += 1
        return closed

    def finish(self, duration: float | None = None) -> list[SpeechSpan]:
        """Close any open utterance at the end of input; reset for the next input."""
        spans = []
        if self._start is not None:
            spans = self._close(self._start, self._last_voiced + 1)
        end = self._position * WINDOW_SECONDS if duration is None else duration
        spans = [SpeechSpan(s.start, min(s.end, end)) for s in spans]
        self._reset()
        return spans

    def _step(self, probability: float) -> list[SpeechSpan]:
        index = self._position
        if self._start is None:
            if probability >= self.settings.threshold:
                self._start, self._last_voiced, self._longest_pause = index, index, None
            return []
        if probability >= self.settings.threshold - HYSTERESIS:
            pause = index - self._last_voiced - 1
            if pause >= MIN_SPLIT_PAUSE_WINDOWS and (
                self._longest_pause is None
                or pause > self._longest_pause[1] - self._longest_pause[0]
            ):
                self._longest_pause = (self._last_voiced + 1, index)
            self._last_voiced = index
        if index - self._last_voiced >= self._max_pause:
            spans = self._close(self._start, self._last_voiced + 1)
            self._start = None
            return spans
        if index + 1 - self._start >= self._max_length:
            return self._split(index)
        return []

    def _split(self, index: int) -> list[SpeechSpan]:
        assert self._start is not None
        if self._longest_pause is not None:
            pause_start, pause_end = self._longest_pause
            spans = self._close(self._start, pause_start)
            self._start = pause_end
        else:
            spans = self._close(self._start, index + 1)
            self._start = index + 1
        self._last_voiced = max(self._last_voiced, self._start)
        self._longest_pause = None
        return spans

    def _close(self, first: int, end: int) -> list[SpeechSpan]:
        start_s, end_s = first * WINDOW_SECONDS, end * WINDOW_SECONDS
        if end_s - start_s < self._min_speech:
            return []
        padded = SpeechSpan(max(self._previous_end, start_s - self._padding), end_s + self._padding)
        self._previous_end = padded.end
        return [padded]


def speech_spans(audio: Audio, vad: SileroVAD, settings: VadSettings) -> list[SpeechSpan]:
    """Utterances of a whole 16 kHz input."""
    if audio.sample_rate != SAMPLE_RATE:
        raise ValueError(f"VAD needs {SAMPLE_RATE} Hz audio, got {audio.sample_rate}")
    segmenter = UtteranceSegmenter(settings)
    spans = segmenter.push(vad.probabilities(audio.samples))
    return spans + segmenter.finish(audio.duration)


class StreamSegmenter:
    """Feed 16 kHz chunks of any size as they arrive; get each utterance's audio once it ends.

    An utterance is returned once its trailing padding has arrived too.
    """

    def __init__(self, vad: SileroVAD, settings: VadSettings) -> None:
        self._vad: VadStream = vad.stream()
        self._segmenter = UtteranceSegmenter(settings)
        self._keep = settings.padding_ms / 1000
        self._pieces: list[np.ndarray] = []
        """The audio kept, in the pieces it arrived in: joined only when it is read, so that a
        long utterance costs one copy per read instead of one per frame."""
        self._buffer_start = 0.0
        self._received = 0
        self._waiting: list[SpeechSpan] = []

    @property
    def in_speech(self) -> bool:
        return self._segmenter.in_speech

    @property
    def speech_s(self) -> float:
        """How long the utterance in progress has been voiced so far (0 in silence)."""
        return self._segmenter.speech_s

    @property
    def silence_s(self) -> float:
        """How long the utterance in progress has been silent (0 in silence between them)."""
        return self._segmenter.silence_s

    @property
    def voiced_end(self) -> float:
        """Where the utterance in progress was last voiced, in seconds (0 in silence)."""
        return self._segmenter.voiced_end

    def end_utterance(self) -> list[SpeechChunk]:
        """End the utterance in progress now (its trailing padding, once it has arrived)."""
        self._waiting += self._segmenter.close_now()
        return self._ready()

    @property
    def position(self) -> float:
        """Seconds of audio received so far."""
        return self._received / SAMPLE_RATE

    def pending(self) -> Audio | None:
        """The utterance in progress so far (for partial transcripts), or None in silence."""
        if not self._segmenter.in_speech:
            return None
        return Audio(self._buffer(), SAMPLE_RATE)

    def feed(self, samples: np.ndarray) -> list[SpeechChunk]:
        samples = np.asarray(samples, dtype=np.float32)
        self._pieces.append(samples)
        self._received += len(samples)
        self._waiting += self._segmenter.push(self._vad.feed(samples))
        return self._ready()

    def _ready(self) -> list[SpeechChunk]:
        """The utterances whose trailing padding has arrived."""
        ready = [span for span in self._waiting if span.end <= self.position]
        self._waiting = self._waiting[len(ready) :]
        chunks = list(self._cut(ready))
        if not self._segmenter.in_speech and not self._waiting:
            self._trim(self.position - self._keep)
        return chunks

    def flush(self) -> list[SpeechChunk]:
        """End of stream: the utterance in progress, if any, is returned too."""
        spans = self._waiting + self._segmenter.push(self._vad.flush())
        spans += self._segmenter.finish(self.position)
        self._waiting = []
        chunks = list(self._cut(spans))
        self._pieces = []
        self._buffer_start = self.position
        return chunks

    def _buffer(self) -> np.ndarray:
        """The audio kept, as one array (never written to: callers may hold on to it)."""
        if len(self._pieces) != 1:
            joined = np.concatenate(self._pieces) if self._pieces else np.zeros(0, np.float32)
            self._pieces = [joined]
        return self._pieces[0]

    def _cut(self, spans: list[SpeechSpan]) -> Iterator[SpeechChunk]:
        for span in spans:
            end = min(span.end, self.position)
            start = max(span.start, self._buffer_start)
            first = round((start - self._buffer_start) * SAMPLE_RATE)
            last = round((end - self._buffer_start) * SAMPLE_RATE)
            audio = Audio(self._buffer()[first:last].copy(), SAMPLE_RATE)
            yield SpeechChunk(SpeechSpan(start, end), audio)
            self._trim(end)

    def _trim(self, keep_from: float) -> None:
        drop = round((keep_from - self._buffer_start) * SAMPLE_RATE)
        if drop > 0:
            self._pieces = [self._buffer()[drop:]]
            self._buffer_start += drop / SAMPLE_RATE
