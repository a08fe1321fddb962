"""The shared vocabulary: audio buffers and timed text, as plain dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Audio:
    """Mono float32 samples in [-1, 1] at a known sample rate."""

    samples: np.ndarray
    sample_rate: int

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate if self.sample_rate else 0.0

    def slice(self, start: float, end: float) -> Audio:
        """The part between two times in seconds, clipped to the buffer."""
        first = max(0, round(start * self.sample_rate))
        last = min(len(self.samples), round(end * self.sample_rate))
        return Audio(self.samples[first : max(first, last)], self.sample_rate)


@dataclass(frozen=True)
class SpeechSpan:
    """A stretch of speech found by the VAD, in seconds from the start of the input."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class SpeechChunk:
    """One utterance cut from a live stream: where it lies and its audio (padding included)."""

    span: SpeechSpan
    audio: Audio


@dataclass(frozen=True)
class AudioChunk:
    """One piece of streamed speech: the audio of one sentence (or part of a long one)."""

    samples: np.ndarray
    sample_rate: int
    text: str
    index: int

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


@dataclass(frozen=True)
class Word:
    text: str
    start: float
    end: float
    probability: float


@dataclass(frozen=True)
class Segment:
    """A decoded stretch of text with Whisper's confidence signals kept for quality scoring."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    compression_ratio: float = 0.0


@dataclass(frozen=True)
class Transcript:
    text: str
    segments: tuple[Segment, ...]
    language: str
    language_probability: float
    duration: float
    dropped: tuple[str, ...] = field(default=())
    """Why segments were removed by the hallucination guards, one line each."""

    @property
    def words(self) -> list[Word]:
        return [word for segment in self.segments for word in segment.words]


@dataclass(frozen=True)
class Speaker:
    id: str
    name: str = ""
    language: str = "pl"
    consent_given: bool = False
    consent_at: str = ""
    consent_by: str = ""


@dataclass(frozen=True)
class Utterance:
    """One stored utterance: its audio file (relative to the dataset), text and quality.

    ``text`` and ``words`` are what Whisper wrote ("o 14:30"); ``spoken_text`` and
    ``spoken_words`` say it as it was spoken ("o czternastej trzydzieści"), timed from the words
    they came from: what TTS training needs.
    """

    id: str
    speaker_id: str
    audio_path: str
    duration: float
    sample_rate: int
    text: str
    words: tuple[Word, ...]
    language: str
    source: str
    source_start: float
    source_end: float
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    compression_ratio: float = 0.0
    status: str = "accepted"
    reasons: tuple[str, ...] = ()
    metrics: dict[str, float] = field(default_factory=dict)
    spoken_text: str = ""
    spoken_words: tuple[Word, ...] = ()
