"""The text-to-speech protocol, and the sentence-streaming shell every backend shares.

Backends implement one synchronous method, ``_render(sentence) -> samples``. The shell splits
text into sentences lazily, normalizes each for the voice's language and renders it, so the
first chunk is ready as soon as the first sentence is, however long the text; a long first
sentence is cut after its first clause so that the first sound comes sooner still.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Protocol

import numpy as np

from lbrxvoicepro.errors import SynthesisError
from lbrxvoicepro.text.normalize import normalize_for_speech
from lbrxvoicepro.text.sentences import lead_clause, split_sentences
from lbrxvoicepro.types import Audio, AudioChunk

MAX_TEXT_CHARS = 2_000_000


class Synthesizer(Protocol):
    @property
    def sample_rate(self) -> int: ...

    def synthesize_sync(self, text: str) -> Audio:
        """All of the text as one buffer."""
        ...

    def stream(self, text: str) -> Iterator[AudioChunk]:
        """Sentence by sentence, the first chunk as soon as the first sentence is ready."""
        ...

    async def synthesize(self, text: str) -> Audio: ...


class SentenceSynthesizer:
    """Streaming, whole-text and async synthesis on top of ``_render``."""

    language = "pl"
    pause_seconds = 0.15

    @property
    def sample_rate(self) -> int:
        raise NotImplementedError

    def _render(self, sentence: str) -> np.ndarray:
        raise NotImplementedError

    def stream(self, text: str) -> Iterator[AudioChunk]:
        _check_text(text)
        index = 0
        for sentence in split_sentences(text):
            for piece in lead_clause(sentence) if index == 0 else [sentence]:
                spoken = normalize_for_speech(piece, self.language)
                if not any(char.isalnum() for char in spoken):
                    continue
                samples = np.asarray(self._render(spoken), dtype=np.float32)
                yield AudioChunk(samples, self.sample_rate, piece, index)
                index += 1
        if index == 0:
            raise SynthesisError("nothing to speak: the text has no words or numbers")

    def synthesize_sync(self, text: str) -> Audio:
        pause = np.zeros(int(self.pause_seconds * self.sample_rate), dtype=np.float32)
        pieces: list[np.ndarray] = []
        for chunk in self.stream(text):
            pieces += [chunk.samples, pause]
        return Audio(np.concatenate(pieces[:-1]), self.sample_rate)

    async def synthesize(self, text: str) -> Audio:
        return await asyncio.to_thread(self.synthesize_sync, text)

    async def astream(self, text: str) -> AsyncIterator[AudioChunk]:
        """``stream`` with each sentence rendered in a worker thread."""
        chunks = self.stream(text)
        done = object()
        while (chunk := await asyncio.to_thread(next, chunks, done)) is not done:
            yield chunk  # type: ignore[misc]


def _check_text(text: str) -> None:
    if not text or not text.strip():
        raise SynthesisError("nothing to speak: the text is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise SynthesisError(
            f"text too long: {len(text)} characters (at most {MAX_TEXT_CHARS}); split it"
        )
