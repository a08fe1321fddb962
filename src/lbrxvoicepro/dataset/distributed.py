"""``ingest --ray``: the same recognition as in one process, as stages on a Ray cluster.

Decoding and the VAD run as CPU tasks (each file read where the task runs: the paths must be
on storage every node sees); Whisper runs in a pool of actors, each loading the model once and
decoding the files of a group together, the same groups as in one process, so a transcript does
not depend on where it was made. The calling process stays the store's single writer: it
commits each file as its group comes back (``DatasetBuilder.ingest``), so a crash of the driver
or of a worker, followed by a rerun, neither loses nor duplicates an utterance. Ray retries a
task and restarts an actor whose worker died; a group that fails even so is reported as failed
with the reason, and the next run redoes it. Ray is imported only here (``lbrxvoicepro[ray]``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lbrxvoicepro.audio import DecodeLimits, decode, resample
from lbrxvoicepro.config import Settings
from lbrxvoicepro.dataset.builder import Outcome, RecognitionFailed, Recognized, groups
from lbrxvoicepro.errors import AudioDecodeError, ConfigError
from lbrxvoicepro.types import Audio, SpeechSpan, Transcript

RETRIES = 3
"""Times Ray reruns a task, or restarts an actor, whose worker died."""


@dataclass(frozen=True)
class Prepared:
    """A file decoded, at 16 kHz for Whisper, with the speech the dataset segmenter found."""

    audio: Audio
    speech: Audio
    spans: list[SpeechSpan]


def connect(address: str) -> None:
    """Join the cluster at ``address`` ('auto': the one ``ray start`` runs on this machine;
    'local': a private one started in this process)."""
    try:
        import ray
    except ImportError as error:
        raise ConfigError("--ray needs Ray: pip install 'lbrxvoicepro[ray]'") from error
    if not ray.is_initialized():
        ray.init(
            address=address,  # "local" always starts a new one, never a stale cluster's
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.WARNING,
        )


class RayRecognition:
    """``Recognition`` on a Ray cluster: ``actors`` Whisper actors (default: one per two CPUs
    of the cluster, at least one), decoding and VAD kept two groups ahead of them."""

    def __init__(
        self,
        settings: Settings,
        address: str,
        limits: DecodeLimits | None = None,
        actors: int | None = None,
    ) -> None:
        self.settings = settings
        self.address = address
        self.limits = limits
        self.actors = actors

    def recognize(self, paths: list[Path], language: str) -> Iterator[tuple[Path, Outcome]]:
        import ray

        connect(self.address)
        prepare = ray.remote(num_cpus=1, max_retries=RETRIES)(_prepare)
        recognizer = ray.remote(num_cpus=1, max_restarts=RETRIES, max_task_retries=RETRIES)(
            _Recognizer
        )
        count = self.actors or max(1, int(ray.cluster_resources().get("CPU", 1)) // 2)
        idle: list[Any] = [recognizer.remote(self.settings) for _ in range(count)]
        work = groups(paths, self.settings.dataset.files_per_batch)
        prepared: dict[int, list[Any]] = {}
        in_flight: dict[Any, tuple[int, Any]] = {}
        started = submitted = 0
        while submitted < len(work) or in_flight:
            while started < min(len(work), submitted + 2 * count):
                prepared[started] = [
                    prepare.remote(str(p), self.limits, self.settings) for p in work[started]
                ]
                started += 1
            while idle and submitted < len(work):
                actor = idle.pop()
                call = actor.transcribe.remote(language, *prepared[submitted])
                in_flight[call] = (submitted, actor)
                submitted += 1
            (done,), _ = ray.wait(list(in_flight), num_returns=1)
            index, actor = in_flight.pop(done)
            idle.append(actor)
            yield from _results(work[index], prepared.pop(index), done)


def _results(
    paths: list[Path], prepared: list[Any], transcribed: Any
) -> Iterator[tuple[Path, Outcome]]:
    import ray

    try:
        transcripts = ray.get(transcribed)
    except ray.exceptions.RayError as error:
        reason = f"lost on the cluster: {type(error).__name__}: {str(error).splitlines()[0]}"
        for path in paths:
            yield path, RecognitionFailed(reason)
        return
    for path, outcome, transcript in zip(paths, ray.get(prepared), transcripts, strict=True):
        if isinstance(outcome, Prepared):
            yield path, Recognized(outcome.audio, transcript, outcome.spans)
        else:
            yield path, outcome


def _prepare(
    path: str, limits: DecodeLimits | None, settings: Settings
) -> Prepared | AudioDecodeError:
    """A CPU task: decode a file and find its speech."""
    from lbrxvoicepro.vad import speech_spans

    try:
        audio = decode(Path(path), limits)
    except AudioDecodeError as error:
        return error
    speech = resample(audio, 16000)
    return Prepared(
        audio, speech, speech_spans(speech, _models(settings).vad(), settings.dataset.segmenter)
    )


class _Recognizer:
    """An actor holding Whisper: built once, it transcribes a group of files together."""

    def __init__(self, settings: Settings) -> None:
        asr = settings.asr
        if not asr.cpu_threads:
            # Ray limits a one-CPU worker's thread pools to one thread; Whisper, the bulk of
            # the work, gets the node's cores as it would in one process.
            asr = asr.model_copy(update={"cpu_threads": os.cpu_count() or 1})
        self.transcriber = _models(settings).transcriber(asr)

    def transcribe(
        self, language: str, *prepared: Prepared | AudioDecodeError
    ) -> list[Transcript | None]:
        ready = [p for p in prepared if isinstance(p, Prepared)]
        found = dict(self.transcriber.transcribe_each([p.speech for p in ready], language))
        transcripts = iter(found[index] for index in range(len(ready)))
        return [next(transcripts) if isinstance(p, Prepared) else None for p in prepared]


_MODELS: dict[str, Any] = {}


def _models(settings: Settings) -> Any:
    """One model manager per worker process (the VAD and Whisper loaded once each)."""
    from lbrxvoicepro.runtime import ModelManager

    key = settings.model_dump_json()
    if key not in _MODELS:
        _MODELS[key] = ModelManager(settings)
    return _MODELS[key]
