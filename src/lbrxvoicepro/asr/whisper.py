"""faster-whisper (CTranslate2) backend, gated by Silero VAD and checked by the guards."""

from __future__ import annotations

import bisect
import itertools
import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import ctranslate2
import numpy as np

from lbrxvoicepro.asr.guards import guard_segments
from lbrxvoicepro.asr.timeline import SpeechTimeline, widen
from lbrxvoicepro.config import AsrSettings, VadSettings
from lbrxvoicepro.errors import UnknownLanguage
from lbrxvoicepro.text.spelling import Speller, speller
from lbrxvoicepro.types import Audio, Segment, SpeechSpan, Transcript, Word
from lbrxvoicepro.vad import SileroVAD, speech_spans

SAMPLE_RATE = 16000
CLIP_SECONDS = 29.9
MIN_TAIL_SECONDS = 1.0
MAX_NEW_TOKENS = 220
"""Whisper's decoder holds 448 tokens; up to 224 of them are the previous text's prompt."""
MAX_UNPROMPTED_TOKENS = 400
"""Batched clips have no prompt and no timestamps to seek on; word alignment needs the rest of
the 448 (a clip that ran to 440 aborted CTranslate2 in `find_alignment`)."""
BASE_TOKENS = 16
FALLBACK_SEED = 1
MIN_BUDGETED_SECONDS = 10.0
"""A decode's time budget counts shorter speech as this long (loading and a first window)."""

log = logging.getLogger(__name__)


def token_budget(seconds: float, per_second: float, limit: int = MAX_NEW_TOKENS) -> int:
    """faster-whisper's ``max_new_tokens`` for a clip: enough for the fastest speech, not for a
    loop. CTranslate2 decodes at most half of these plus the prompt (the reference
    implementation's 224 of 448 tokens), which is still enough (README, "How transcription
    works")."""
    return min(limit, BASE_TOKENS + math.ceil(seconds * per_second))


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

    def transcribe(
        self,
        audio: Audio,
        language: str | None = None,
        on_segment: Callable[[Segment], None] | None = None,
    ) -> Transcript:
        """Decode the speech clip by clip (at most 30 s each, cut at pauses), each with a token
        budget for its length, so no input costs much more than its duration. ``on_segment``
        hears each kept segment as soon as its clip is decoded.

        Past its wall-clock budget (``asr.decode_time_factor`` × the speech's length) the rest
        is decoded once per clip, without temperature fallback."""
        began = time.monotonic()
        language = self._language(language)
        prepared = self._prepare(audio)
        if prepared.timeline is None:
            return _empty(audio, language or "")
        probability = 1.0
        if language is None:
            language, probability = self._detect(prepared)
        speech = prepared.timeline.audio.samples
        budget = self.settings.decode_time_factor * max(
            prepared.timeline.audio.duration, MIN_BUDGETED_SECONDS
        )
        decoded: list[Segment] = []
        previous = ""
        hurried = False
        for start, end in _clip_bounds(prepared.timeline, prepared.speech):
            clip = speech[round(start * SAMPLE_RATE) : round(end * SAMPLE_RATE)]
            if not hurried and time.monotonic() - began > budget:
                hurried = True
                log.warning(
                    "decoding took over its budget of %.1f s for %.1f s of speech: the rest "
                    "(from %.1f s) is decoded without temperature fallback",
                    budget,
                    prepared.timeline.audio.duration,
                    start,
                )
            segments = self._decode_clip(clip, language, previous, fallback_allowed=not hurried)
            restored = [prepared.timeline.restore(_shift(s, start)) for s in segments]
            decoded += restored
            if on_segment is not None:
                for segment in self._spelled(
                    guard_segments(restored, language, self.settings)[0], language
                ):
                    on_segment(segment)
            if self.settings.condition_on_previous_text:
                previous = " ".join(s.text.strip() for s in segments)
        return self._finish(audio, decoded, language, probability)

    def _decode_clip(
        self, clip: np.ndarray, language: str, previous: str, fallback_allowed: bool
    ) -> list[Segment]:
        settings = self.settings
        seconds = len(clip) / SAMPLE_RATE
        fallback = fallback_allowed and seconds >= settings.min_fallback_s
        if fallback:
            # The same clip samples the same fallback candidates: one input, one transcript.
            ctranslate2.set_random_seed(FALLBACK_SEED)
        segments, _ = self.model.transcribe(
            clip,
            language=language,
            beam_size=settings.beam_size,
            best_of=settings.best_of,
            temperature=list(settings.temperatures if fallback else settings.temperatures[:1]),
            max_new_tokens=token_budget(seconds, settings.max_tokens_per_second),
            word_timestamps=settings.word_timestamps,
            vad_filter=False,
            initial_prompt=previous or None,
            condition_on_previous_text=settings.condition_on_previous_text,
            no_speech_threshold=settings.no_speech_threshold,
            log_prob_threshold=settings.log_prob_threshold,
            compression_ratio_threshold=settings.compression_ratio_threshold,
        )
        return list(_convert(segments))

    def transcribe_batch(
        self, audios: Sequence[Audio], language: str | None = None
    ) -> list[Transcript]:
        """Cut every input's speech into clips of at most 30 s and decode them in batches.

        All clips of all inputs go through one ``BatchedInferencePipeline`` call per language,
        so the encoder and decoder see full batches even when each input is short.
        """
        done = dict(self.transcribe_each(audios, language))
        return [done[index] for index in range(len(audios))]

    def transcribe_each(
        self,
        audios: Sequence[Audio],
        language: str | None = None,
        on_segment: Callable[[int, Segment], None] | None = None,
    ) -> Iterator[tuple[int, Transcript]]:
        """``transcribe_batch``'s decoding, each input yielded once its last clip is decoded;
        ``on_segment`` hears each segment as the decoder gives it."""
        prepared = [self._prepare(audio) for audio in audios]
        forced = self._language(language)
        languages = [forced or (self._detect(p)[0] if p.timeline else "") for p in prepared]
        groups: dict[str, list[int]] = {}
        for index, item in enumerate(prepared):
            if item.timeline is None:
                yield index, _empty(item.audio, languages[index])
            else:
                groups.setdefault(languages[index], []).append(index)
        for group_language, members in groups.items():
            decoded = self._decode_group(
                [prepared[i] for i in members], group_language, _renumbered(on_segment, members)
            )
            for position, segments in decoded:
                index = members[position]
                yield index, self._finish(prepared[index].audio, segments, group_language, 1.0)

    def _decode_group(
        self,
        items: list[_Prepared],
        language: str,
        on_segment: Callable[[int, Segment], None] | None = None,
    ) -> Iterator[tuple[int, list[Segment]]]:
        """Each item's segments, in order, as soon as the decoder has moved past it."""
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
            max_new_tokens=token_budget(
                max(c["end"] - c["start"] for c in clips),
                self.settings.max_tokens_per_second,
                MAX_UNPROMPTED_TOKENS,
            ),
        )
        current: list[Segment] = []
        finished = 0  # items before this one are complete
        starts = [clip["start"] for clip in clips]
        for segment in _convert(segments):
            clip = max(0, bisect.bisect_right(starts, (segment.start + segment.end) / 2) - 1)
            owner, shift = owners[clip]
            while finished < owner:
                yield finished, current
                current, finished = [], finished + 1
            timeline = items[owner].timeline
            assert timeline is not None
            current.append(timeline.restore(_shift(segment, -shift)))
            if on_segment:
                on_segment(owner, current[-1])
        while finished < len(items):
            yield finished, current
            current, finished = [], finished + 1

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
            if language not in (None, "en", "auto"):  # asked for, not just the configured one
                raise UnknownLanguage(
                    f"this Whisper model is English-only and cannot transcribe {chosen!r}: use "
                    "a multilingual one (whisper-base), or --language en"
                )
            return "en"
        if chosen != "auto" and chosen not in self.model.supported_languages:
            raise UnknownLanguage(
                f"unknown language {chosen!r}: give an ISO 639-1 code Whisper knows "
                "(pl, en, de, ...) or 'auto' to detect it"
            )
        return None if chosen == "auto" else chosen

    def _detect(self, item: _Prepared) -> tuple[str, float]:
        assert item.timeline is not None
        language, probability, _ = self.model.detect_language(item.timeline.audio.samples)
        return str(language), float(probability)

    def _finish(
        self, audio: Audio, segments: list[Segment], language: str, probability: float
    ) -> Transcript:
        kept, notes = guard_segments(segments, language, self.settings)
        kept = self._spelled(kept, language)
        return Transcript(
            text=" ".join(s.text.strip() for s in kept).strip(),
            segments=tuple(kept),
            language=language,
            language_probability=float(probability),
            duration=audio.duration,
            dropped=tuple(notes),
        )

    def _spelled(self, segments: list[Segment], language: str) -> list[Segment]:
        """Segments with the words the language's word list does not know put right (for the
        languages in ``asr.spelling_languages``)."""
        fix = speller(language) if language in self.settings.spelling_languages else None
        return segments if fix is None else [_respelled(s, fix) for s in segments]


def _convert(segments: Iterable[Any]) -> Iterator[Segment]:
    """faster-whisper's lazy segments, each decoded as it is asked for (in the caller's worker
    thread): a batched group yields each input as soon as the decoder has moved past it."""
    for s in segments:
        yield Segment(
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


def _clip_bounds(
    timeline: SpeechTimeline, speech: tuple[SpeechSpan, ...] = ()
) -> list[tuple[float, float]]:
    """Clips of at most 30 s over the joined speech, each cut at the latest pause that keeps it
    under 30 s: a seam between pieces, else the middle of a gap the VAD heard between words,
    else (speech without a pause for 30 s) at 30 s.

    A last clip shorter than a second that holds no speech (only the gate's padding) is left
    out: decoding it would cost a whole window and invite invented text.
    """
    total = timeline.audio.duration
    pauses = sorted({*timeline.joined_starts[1:], *_pauses(timeline, speech)})
    clips, start = [], 0.0
    while total - start > CLIP_SECONDS:
        cuts = [p for p in pauses if start < p <= start + CLIP_SECONDS]
        end = cuts[-1] if cuts else start + CLIP_SECONDS
        clips.append((start, end))
        start = end
    clips.append((start, total))
    if len(clips) > 1 and speech:
        first, last = clips[-1]
        begin, end = timeline.original_time(first), timeline.original_time(last, is_end=True)
        if last - first < MIN_TAIL_SECONDS and not any(
            s.start < end and s.end > begin for s in speech
        ):
            clips.pop()
    return clips


def _pauses(timeline: SpeechTimeline, speech: tuple[SpeechSpan, ...]) -> list[float]:
    """Middles of the gaps between speech spans, in joined time, where the gate kept them."""
    middles = ((a.end + b.start) / 2 for a, b in itertools.pairwise(speech))
    return [t for t in map(timeline.joined_time, middles) if t is not None]


def _shift(segment: Segment, delta: float) -> Segment:
    words = tuple(
        Word(w.text, w.start + delta, w.end + delta, w.probability) for w in segment.words
    )
    return replace(segment, start=segment.start + delta, end=segment.end + delta, words=words)


def _respelled(segment: Segment, fix: Speller) -> Segment:
    """The segment spelled; a word joined from two keeps the span of both."""
    if not segment.words:
        return replace(segment, text=fix.text(segment.text))
    words, index = [], 0
    for count, text in fix.pieces([w.text for w in segment.words]):
        merged = segment.words[index : index + count]
        probability = min(w.probability for w in merged)
        words.append(Word(text, merged[0].start, merged[-1].end, probability))
        index += count
    return replace(segment, text=fix.text(segment.text), words=tuple(words))


def _empty(audio: Audio, language: str) -> Transcript:
    return Transcript("", (), language, 0.0, audio.duration)


def _renumbered(
    on_segment: Callable[[int, Segment], None] | None, members: list[int]
) -> Callable[[int, Segment], None] | None:
    """``on_segment`` for one language's group: a position in the group becomes the index of
    the input."""
    if on_segment is None:
        return None
    return lambda position, segment: on_segment(members[position], segment)
