"""Turn recordings into stored utterances: VAD cuts, Whisper transcribes, quality is judged.

Used by ``ingest`` (files and folders) and ``collect`` (live sources). A source file is marked
done only after all its utterances are committed; an interrupted file is redone from scratch on
the next run (its partial utterances are removed first), so a resumed job neither loses nor
duplicates anything.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from lbrxvoicepro.asr import Transcriber
from lbrxvoicepro.audio import DecodeLimits, decode, resample
from lbrxvoicepro.config import Settings
from lbrxvoicepro.dataset.quality import judge, measure
from lbrxvoicepro.dataset.store import DatasetStore
from lbrxvoicepro.errors import AudioDecodeError
from lbrxvoicepro.text.spoken import spoken_form
from lbrxvoicepro.types import Audio, Segment, SpeechSpan, Transcript, Utterance, Word
from lbrxvoicepro.vad import SileroVAD, speech_spans

AUDIO_SUFFIXES = {".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".webm", ".aac", ".wma"}


@dataclass
class IngestReport:
    files_done: int = 0
    files_skipped: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    accepted: int = 0
    rejected: int = 0
    speech_seconds: float = 0.0


def expand(paths: Iterable[Path]) -> list[Path]:
    """Files as given, and audio files found under folders, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)
        else:
            found.append(path)
    return found


class DatasetBuilder:
    def __init__(
        self, store: DatasetStore, transcriber: Transcriber, vad: SileroVAD, settings: Settings
    ) -> None:
        self.store = store
        self.transcriber = transcriber
        self.vad = vad
        self.settings = settings

    def store_recording(
        self, recording: Recognized, source: str, speaker_id: str
    ) -> list[Utterance]:
        """Cut a transcribed recording into its VAD spans and store each; Whisper saw the
        recording whole (full context, one 30 s window per 30 s of speech), and each span
        takes the words whose middle falls inside it."""
        return [
            self.keep(
                recording.audio.slice(s.start, s.end),
                _cut(recording.transcript, s, speaker_id, source),
            )
            for s in recording.spans
        ]

    def add_utterances(
        self,
        pieces: list[tuple[Audio, Audio, SpeechSpan]],
        speaker_id: str,
        source: str,
        texts: list[str] | None = None,
        transcripts: list[Transcript] | None = None,
    ) -> list[Utterance]:
        """Store (native audio, 16 kHz audio, span) pieces, each transcribed on its own.

        ``texts`` (prompted reading) replaces the recognised text; the ASR's word timings and
        confidence are kept. ``transcripts`` skips recognition when it was already done.
        """
        if transcripts is None:
            language = self.store.speaker(speaker_id).language
            transcripts = self.transcriber.transcribe_batch([p[1] for p in pieces], language)
        stored = []
        for index, ((native, _, span), transcript) in enumerate(
            zip(pieces, transcripts, strict=True)
        ):
            entry = draft(transcript, list(transcript.words), speaker_id, source, span, 0.0)
            if texts is not None:
                entry = dataclasses.replace(entry, text=texts[index])
            stored.append(self.keep(native, entry))
        return stored

    def keep(
        self, audio: Audio, draft: Utterance, recorded: Mapping[str, float] | None = None
    ) -> Utterance:
        """Measure, judge and store one utterance; ``recorded`` adds metrics measured
        elsewhere (a take's CER against its prompt) that the thresholds judge too."""
        spoken, spoken_words = spoken_form(draft.text, draft.words, draft.language)
        draft = dataclasses.replace(draft, spoken_text=spoken, spoken_words=spoken_words)
        metrics = {**measure(audio, draft), **(recorded or {})}
        reasons = judge(metrics, self.settings.dataset.validation)
        if not draft.text:
            reasons = ("no words recognised", *reasons)
        draft = dataclasses.replace(
            draft, status="rejected" if reasons else "accepted", reasons=reasons, metrics=metrics
        )
        return self.store.add_utterance(audio, draft)

    def ingest(
        self,
        paths: Iterable[Path],
        speaker_id: str,
        advance: Callable[[str], None] | None = None,
        sources: Mapping[Path, str] | None = None,
        limits: DecodeLimits | None = None,
        report: IngestReport | None = None,
        recognition: Recognition | None = None,
    ) -> IngestReport:
        """Add files and folders: ``recognition`` decodes, finds speech and transcribes them
        (here by default: decoding runs ahead in a worker, Whisper decodes the files of each
        group together; ``dataset.distributed`` does it on a Ray cluster). This process is the
        single writer: every file is committed (and marked done) on its own as soon as it is
        recognised, and counted in ``report`` then (pass one to watch it grow).

        A file's source name (what resuming and duplicates go by) is its absolute path, or
        what ``sources`` gives for it (uploads: their content hash and name).
        """
        report = IngestReport() if report is None else report
        files = expand(paths)
        keys = {path: (sources or {}).get(path) or str(path.resolve()) for path in files}
        pending = [p for p in files if self.store.source_status(keys[p]) != "done"]
        report.files_skipped = len(files) - len(pending)
        for path in pending:
            self.store.remove_source_utterances(keys[path])
            self.store.mark_source(keys[path], speaker_id, "ingesting")
        recognition = recognition or LocalRecognition(self, limits)
        language = self.store.speaker(speaker_id).language
        waiting = set(pending)
        decode = unfinished_groups(files, waiting, self.settings.dataset.files_per_batch)
        for path, outcome in recognition.recognize(decode, language):
            if path not in waiting:
                continue
            key = keys[path]
            label = key
            if not isinstance(outcome, Recognized):
                report.failures.append((str(path), outcome.reason))
                self.store.mark_source(key, speaker_id, "failed", outcome.reason)
                label = str(path)
            else:
                added = self.store_recording(outcome, key, speaker_id)
                self.store.mark_source(key, speaker_id, "done", utterances=len(added))
                report.files_done += 1
                report.accepted += sum(u.status == "accepted" for u in added)
                report.rejected += sum(u.status == "rejected" for u in added)
                report.speech_seconds += sum(u.duration for u in added)
            if advance:
                advance(label)
        return report


@dataclass(frozen=True)
class Recognized:
    """A recording ready to store: its audio as decoded, Whisper's transcript of the whole
    recording and the speech spans the dataset segmenter found in it."""

    audio: Audio
    transcript: Transcript
    spans: list[SpeechSpan]


@dataclass(frozen=True)
class RecognitionFailed:
    """A file whose recognition failed for a reason other than its audio (a cluster's work
    lost even after retries); the next run tries it again."""

    reason: str


Outcome = Recognized | AudioDecodeError | RecognitionFailed


class Recognition(Protocol):
    """Decode, find speech and transcribe files, yielding each file once, in any order, with
    its result or the reason it cannot be read."""

    def recognize(self, paths: list[Path], language: str) -> Iterator[tuple[Path, Outcome]]: ...


class LocalRecognition:
    """In this process: decoding runs two files ahead in a worker thread; Whisper decodes the
    files of each group of ``dataset.files_per_batch`` in shared batches.

    ``progress`` hears, as each segment is decoded, how many seconds of the group's audio are
    transcribed and how many it has: a group of long files takes minutes, and a count of
    files alone would stand still for all of them.
    """

    def __init__(
        self,
        builder: DatasetBuilder,
        limits: DecodeLimits | None = None,
        progress: Callable[[float, float], None] | None = None,
    ) -> None:
        self.builder = builder
        self.limits = limits
        self.progress = progress

    def recognize(self, paths: list[Path], language: str) -> Iterator[tuple[Path, Outcome]]:
        settings = self.builder.settings
        with ThreadPoolExecutor(max_workers=1) as pool:
            decoded = _prefetch(pool, paths, self.limits)
            for group in groups(paths, settings.dataset.files_per_batch):
                ready: list[tuple[Path, Audio]] = []
                for path in group:
                    audio = next(decoded)
                    if isinstance(audio, AudioDecodeError):
                        yield path, audio
                    else:
                        ready.append((path, audio))
                speech = [resample(audio, 16000) for _, audio in ready]
                transcripts = self.builder.transcriber.transcribe_each(
                    speech, language, self._heard(speech)
                )
                for index, transcript in transcripts:
                    path, audio = ready[index]
                    spans = speech_spans(
                        speech[index], self.builder.vad, settings.dataset.segmenter
                    )
                    yield path, Recognized(audio, transcript, spans)

    def _heard(self, speech: list[Audio]) -> Callable[[int, Segment], None] | None:
        """Segments of the group's inputs as seconds of its audio transcribed."""
        if self.progress is None:
            return None
        report = self.progress
        starts = list(itertools.accumulate((a.duration for a in speech), initial=0.0))
        report(0.0, starts[-1])
        return lambda index, segment: report(starts[index] + segment.end, starts[-1])


def groups(paths: list[Path], size: int) -> list[list[Path]]:
    """The groups Whisper decodes together, the same wherever recognition runs (a batch's
    make-up must not change a transcript)."""
    return [paths[first : first + size] for first in range(0, len(paths), size)]


def unfinished_groups(files: list[Path], pending: set[Path], size: int) -> list[Path]:
    """Every file of each group that still has a pending file, in order: a resumed run decodes
    the same groups as an uninterrupted one (a batch's make-up can change a transcript), and
    the files already done in them are decoded again but not stored again."""
    return [path for group in groups(files, size) if pending.intersection(group) for path in group]


def _prefetch(
    pool: ThreadPoolExecutor, paths: list[Path], limits: DecodeLimits | None
) -> Iterator[Audio | AudioDecodeError]:
    futures = [pool.submit(_decode_or_error, path, limits) for path in paths[:2]]
    for index in range(len(paths)):
        if index + 2 < len(paths):
            futures.append(pool.submit(_decode_or_error, paths[index + 2], limits))
        yield futures[index].result()


def _decode_or_error(path: Path, limits: DecodeLimits | None) -> Audio | AudioDecodeError:
    try:
        return decode(path, limits)
    except AudioDecodeError as error:
        return error


def _cut(transcript: Transcript, span: SpeechSpan, speaker_id: str, source: str) -> Utterance:
    """The utterance of one span of a whole-recording transcript: its words, their times
    relative to the span, and the confidence of the segments it overlaps."""
    words = [w for w in transcript.words if span.start <= (w.start + w.end) / 2 < span.end]
    segments = [s for s in transcript.segments if s.start < span.end and s.end > span.start]
    partial = dataclasses.replace(transcript, segments=tuple(segments))
    return draft(partial, words, speaker_id, source, span, span.start)


def draft(
    transcript: Transcript,
    words: list[Word],
    speaker_id: str,
    source: str,
    span: SpeechSpan,
    shift: float,
) -> Utterance:
    segments = transcript.segments
    return Utterance(
        id="",
        speaker_id=speaker_id,
        audio_path="",
        duration=span.duration,
        sample_rate=0,
        text="".join(w.text for w in words).strip(),
        words=tuple(
            Word(w.text.strip(), max(0.0, w.start - shift), max(0.0, w.end - shift), w.probability)
            for w in words
        ),
        language=transcript.language,
        source=source,
        source_start=span.start,
        source_end=span.end,
        avg_logprob=float(np.mean([s.avg_logprob for s in segments])) if segments else 0.0,
        no_speech_prob=max((s.no_speech_prob for s in segments), default=1.0),
        compression_ratio=max((s.compression_ratio for s in segments), default=0.0),
    )
