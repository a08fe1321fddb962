"""``collect``: cut a live source into utterances as it plays, transcribe and store them.

Stops at the requested amount of speech, at the end of the source, or on Ctrl-C; the
utterance in progress is kept in every case.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lbrxvoicepro.dataset.builder import DatasetBuilder
from lbrxvoicepro.dataset.store import DatasetError, DatasetStore
from lbrxvoicepro.text import cer
from lbrxvoicepro.text.normalize import normalize_for_speech
from lbrxvoicepro.types import SpeechChunk
from lbrxvoicepro.vad import StreamSegmenter


@dataclass
class CollectStatus:
    speech_seconds: float = 0.0
    accepted: int = 0
    rejected: int = 0
    level_dbfs: float = -120.0
    interrupted: bool = False


def collect(
    builder: DatasetBuilder,
    source: Iterable[np.ndarray],
    speaker_id: str,
    max_speech_seconds: float = float("inf"),
    on_status: Callable[[CollectStatus], None] | None = None,
) -> CollectStatus:
    status = CollectStatus()
    segmenter = StreamSegmenter(builder.vad, builder.settings.dataset.segmenter)
    session = f"live:{speaker_id}:{time.strftime('%Y%m%dT%H%M%S')}"

    def keep(chunks: list[SpeechChunk]) -> None:
        if not chunks:
            return
        stored = builder.add_utterances(
            [(c.audio, c.audio, c.span) for c in chunks], speaker_id, session
        )
        status.speech_seconds += sum(u.duration for u in stored)
        status.accepted += sum(u.status == "accepted" for u in stored)
        status.rejected += sum(u.status == "rejected" for u in stored)

    try:
        for samples in source:
            if len(samples):
                status.level_dbfs = float(20 * np.log10(np.sqrt(np.mean(samples**2)) + 1e-6))
            keep(segmenter.feed(samples))
            if on_status:
                on_status(status)
            if status.speech_seconds >= max_speech_seconds:
                break
    except KeyboardInterrupt:
        status.interrupted = True
    finally:
        keep(segmenter.flush())
        if on_status:
            on_status(status)
    return status


@dataclass
class PromptOutcome:
    """The verdict on one take."""

    prompt: str
    kept: bool
    attempts: int
    """Takes of this prompt so far, this one included."""
    cer: float
    heard: str = ""
    """What the ASR heard in the take."""
    skipped: bool = False
    """Not kept, and out of takes: the reading moves on to the next prompt."""


@dataclass(frozen=True)
class PromptAsk:
    """The next prompt to read: ``number`` of ``total`` in the set, take ``attempt``."""

    prompt: str
    number: int
    total: int
    attempt: int


def load_prompts(path_or_name: str) -> list[str]:
    """Prompts from a file (one per line), or the bundled set by language ('pl')."""
    path = Path(path_or_name)
    if not path.is_file():
        bundled = Path(__file__).parent / "prompts" / f"{path_or_name}.txt"
        if not bundled.is_file():
            raise DatasetError(f"{path_or_name}: no such prompt file or bundled prompt set")
        path = bundled
    prompts = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return [p for p in prompts if p and not p.startswith("#")]


def prompts_read(store: DatasetStore, speaker_id: str) -> set[str]:
    """The prompts this speaker has a kept take of, from any session."""
    utterances = store.utterances(speaker=speaker_id)
    return {u.text for u in utterances if u.source.startswith("prompted:")}


def collect_prompted(
    builder: DatasetBuilder,
    source: Iterable[np.ndarray],
    speaker_id: str,
    prompts: list[str],
    max_cer: float = 0.25,
    attempts: int = 3,
    on_prompt: Callable[[PromptAsk], None] | None = None,
    on_outcome: Callable[[PromptOutcome], None] | None = None,
) -> list[PromptOutcome]:
    """Prompted reading: each take is transcribed and compared with its prompt (CER, both in
    spoken form, so "o 14:30" read aloud matches "o czternastej trzydzieści").

    A take close enough to the prompt is kept with the prompt as its text; otherwise the same
    prompt is asked again, up to ``attempts`` times, then skipped. Prompts this speaker has
    already read in an earlier session are not asked again, so a session resumes where the
    last one stopped. Returns the final outcome of each prompt asked.
    """
    segmenter = StreamSegmenter(builder.vad, builder.settings.dataset.segmenter)
    session = f"prompted:{speaker_id}:{time.strftime('%Y%m%dT%H%M%S')}"
    language = builder.store.speaker(speaker_id).language
    read = prompts_read(builder.store, speaker_id)
    queue = [(number, prompt) for number, prompt in enumerate(prompts, 1) if prompt not in read]
    outcomes: list[PromptOutcome] = []
    index, attempt = 0, 1

    def ask() -> None:
        if index < len(queue) and on_prompt:
            number, prompt = queue[index]
            on_prompt(PromptAsk(prompt, number, len(prompts), attempt))

    def judge_take(chunk: SpeechChunk) -> None:
        nonlocal index, attempt
        prompt = queue[index][1]
        transcript = builder.transcriber.transcribe(chunk.audio, language)
        distance = cer(
            normalize_for_speech(prompt, language), normalize_for_speech(transcript.text, language)
        )
        kept = distance <= max_cer
        if kept:
            builder.add_utterances(
                [(chunk.audio, chunk.audio, chunk.span)],
                speaker_id,
                session,
                texts=[prompt],
                transcripts=[transcript],
            )
        outcome = PromptOutcome(
            prompt, kept, attempt, distance, transcript.text, not kept and attempt >= attempts
        )
        if kept or outcome.skipped:
            outcomes.append(outcome)
            index, attempt = index + 1, 1
        else:
            attempt += 1
        if on_outcome:
            on_outcome(outcome)
        ask()

    ask()
    try:
        for samples in source:
            for chunk in segmenter.feed(samples):
                if index < len(queue):
                    judge_take(chunk)
            if index >= len(queue):
                break
    except KeyboardInterrupt:
        pass
    finally:
        for chunk in segmenter.flush():
            if index < len(queue):
                judge_take(chunk)
    return outcomes
