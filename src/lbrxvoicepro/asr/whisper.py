"""faster-whisper (CTranslate2) backend, gated by Silero VAD and checked by the guards."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from lbrxvoicepro.asr.guards import guard_segments
from lbrxvoicepro.asr.timeline import SpeechTimeline, widen
from lbrxvoicepro.config import AsrSettings, VadSettings
from lbrxvoicepro.errors import UnknownLanguage
from lbrxvoicepro.types import Audio, Segment, SpeechSpan, Transcript, Word
from lbrxvoicepro.vad import SileroVAD, speech_spans

SAMPLE_RATE = 16000
CLIP_SECONDS = 29.9
MIN_TAIL_SECONDS = 1.0


@dataclass(frozen=True)
class _Prepared:
    """One input ready for decoding: its speech-only timeline (or None when silent)."""

    audio: Audio
    timeline: SpeechTimeline | None
    speech: tuple[SpeechSpan, ...] = ()
    """What the VAD called speech (before the gate's padding), in input time."""


class FasterWhisperTranscriber:
    """Sync and thread-safe; consume nothing lazily outside ``transcribe``."""

    def __init__(
        self, model: Any, vad: SileroVAD | None, settings: AsrSettings, vad_settings: VadSettings
    ) -> None:
        self.model = model
        self.vad = vad if settings.vad_gate else None
        self.settings = settings
        self.vad_settings = vad_settings

    def transcribe(self, audio: Audio, language: str | None = None) -> Transcript:
        language = self._language(language)
        prepared = self._prepare(audio)
        if prepared.timeline is None:
            return _empty(audio, language or "")
        segments, info = self.model.transcribe(
            prepared.timeline.audio.samples,
            language=language,
            beam_size=self.settings.beam_size,
            word_timestamps=self.settings.word_timestamps,
            vad_filter=False,
            condition_on_previous_text=self.settings.condition_on_previous_text,
            no_speech_threshold=self.settings.no_speech_threshold,
            log_prob_threshold=self.settings.log_prob_threshold,
            compression_ratio_threshold=self.settings.compression_ratio_threshold,
        )
        decoded = [prepared.timeline.restore(s) for s in _convert(segments)]
        return self._finish(audio, decoded, info.language, info.language_probability)

    def transcribe_batch(
        self, audios: Sequence[Audio], language: str | None = None
    ) -> list[Transcript]:
        """Cut every input's speech into clips of at most 30 s and decode them in batches.

        All clips of all inputs go through one ``BatchedInferencePipeline`` call per language,
        so the encoder and decoder see full batches even when each input is short.
        """
        prepared = [self._prepare(audio) for audio in audios]
        forced = self._language(language)
        languages = [forced or (self._detect(p) if p.timeline else "") for p in prepared]
        results: list[Transcript | None] = [None] * len(audios)
        for index, item in enumerate(prepared):
            if item.timeline is None:
                results[index] = _empty(item.audio, languages[index])
        groups: dict[str, list[int]] = {}
        for index, item in enumerate(prepared):
            if item.timeline is not None:
                groups.setdefault(languages[index], []).append(index)
        for group_language, members in groups.items():
            decoded = self._decode_group([prepared[i] for i in members], group_language)
            for index, segments in zip(members, decoded, strict=True):
                results[index] = self._finish(prepared[index].audio, segments, group_language, 1.0)
        return [r for r in results if r is not None]

    def _decode_group(self, items: list[_Prepared], language: str) -> list[list[Segment]]:
        from faster_whisper import BatchedInferencePipeline

        joined, clips, owners = [], [], []
        offset = 0.0
        for owner, item in enumerate(items):
            assert item.timeline is not None
            speech = item.timeline.audio
            for start, end in _clip_bounds(item.timeline, item.speech):
                clips.append({"start": offset + start, "end": offset + end})
                owners.append((owner, offset))
            joined.append(speech.samples)
            offset += len(speech.samples) / SAMPLE_RATE
        segments, _ = BatchedInferencePipeline(self.model).transcribe(
            np.concatenate(joined),
            language=language,
            beam_size=self.settings.beam_size,
            word_timestamps=self.settings.word_timestamps,
            without_timestamps=not self.settings.batch_segment_timestamps,
            vad_filter=False,
            clip_timestamps=clips,
            batch_size=self.settings.batch_size,
        )
        per_item: list[list[Segment]] = [[] for _ in items]
        starts = [clip["start"] for clip in clips]
        for segment in _convert(segments):
            clip = max(0, bisect.bisect_right(starts, (segment.start + segment.end) / 2) - 1)
            owner, shift = owners[clip]
            timeline = items[owner].timeline
            assert timeline is not None
            per_item[owner].append(timeline.restore(_shift(segment, -shift)))
        return per_item

    def _prepare(self, audio: Audio) -> _Prepared:
        if audio.sample_rate != SAMPLE_RATE:
            raise ValueError(f"ASR needs {SAMPLE_RATE} Hz audio, got {audio.sample_rate}")
        if audio.duration == 0:
            return _Prepared(audio, None)
        if self.vad is None:
            return _Prepared(audio, SpeechTimeline.build(audio, [SpeechSpan(0, audio.duration)]))
        speech = speech_spans(audio, self.vad, self.vad_settings)
        spans = widen(
            speech, self.settings.gate_padding_s, self.settings.gate_min_gap_s, audio.duration
        )
        timeline = SpeechTimeline.build(audio, spans) if spans else None
        return _Prepared(audio, timeline, tuple(speech))

    def _language(self, language: str | None) -> str | None:
        chosen = language or self.settings.language
        if not self.model.model.is_multilingual:
            return "en"
        if chosen != "auto" and chosen not in self.model.supported_languages:
            raise UnknownLanguage(
                f"unknown language {chosen!r}: give an ISO 639-1 code Whisper knows "
                "(pl, en, de, ...) or 'auto' to detect it"
            )
        return None if chosen == "auto" else chosen

    def _detect(self, item: _Prepared) -> str:
        assert item.timeline is not None
        language, _, _ = self.model.detect_language(item.timeline.audio.samples)
        return str(language)

    def _finish(
        self, audio: Audio, segments: list[Segment], language: str, probability: float
    ) -> Transcript:
        kept, notes = guard_segments(segments, language, self.settings)
        return Transcript(
            text=" ".join(s.text.strip() for s in kept).strip(),
            segments=tuple(kept),
            language=language,
            language_probability=float(probability),
            duration=audio.duration,
            dropped=tuple(notes),
        )


def _convert(segments: Iterable[Any]) -> list[Segment]:
    """faster-whisper's lazy segments, consumed here (in the caller's worker thread)."""
    return [
        Segment(
            start=float(s.start),
            end=float(s.end),
            text=s.text,
            words=tuple(
                Word(w.word, float(w.start), float(w.end), float(w.probability))
                for w in (s.words or ())
            ),
            avg_logprob=float(s.avg_logprob),
            no_speech_prob=float(s.no_speech_prob),
            compression_ratio=float(s.compression_ratio),
        )
        for s in segments
    ]


def _clip_bounds(
    timeline: SpeechTimeline, speech: tuple[SpeechSpan, ...] = ()
) -> list[tuple[float, float]]:
    """Clips of at most 30 s over the joined speech, cut at piece seams where possible.

    A last clip shorter than a second that holds no speech (only the gate's padding) is left
    out: decoding it would cost a whole 30 s window and invite invented text.
    """
    total = timeline.audio.duration
    seams = [*timeline.joined_starts[1:], total]
    clips, start = [], 0.0
    previous = 0.0
    for seam in seams:
        if seam - start > CLIP_SECONDS and previous > start:
            clips.append((start, previous))
            start = previous
        while seam - start > CLIP_SECONDS:
            clips.append((start, start + CLIP_SECONDS))
            start += CLIP_SECONDS
        previous = seam
    if total > start:
        clips.append((start, total))
    if len(clips) > 1 and speech:
        first, last = clips[-1]
        begin, end = timeline.original_time(first), timeline.original_time(last, is_end=True)
        if last - first < MIN_TAIL_SECONDS and not any(
            s.start < end and s.end > begin for s in speech
        ):
            clips.pop()
    return clips


def _shift(segment: Segment, delta: float) -> Segment:
    words = tuple(
        Word(w.text, w.start + delta, w.end + delta, w.probability) for w in segment.words
    )
    return replace(segment, start=segment.start + delta, end=segment.end + delta, words=words)


def _empty(audio: Audio, language: str) -> Transcript:
    return Transcript("", (), language, 0.0, audio.duration)
