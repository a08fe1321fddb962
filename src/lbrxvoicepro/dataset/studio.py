"""The recording studio's core, under the ``/studio`` page: prompt sets, takes of prompted
reading judged the way every utterance is, the choice of a prompt's best take, progress and
where a speaker resumes.

A take is kept twice: whole and exactly as the page captured it (``takes/``, lossless, at its
own rate), before anything judges it; then its VAD-trimmed speech as an utterance with the
prompt as its text, accepted or rejected by the dataset's thresholds plus the CER of what the
ASR heard against the prompt. Rejected takes stay in the catalog and can be restored.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lbrxvoicepro.audio import resample
from lbrxvoicepro.dataset.builder import DatasetBuilder, draft
from lbrxvoicepro.dataset.collect import load_prompts
from lbrxvoicepro.dataset.exporters.base import write_text
from lbrxvoicepro.dataset.quality import ANOTHER_TAKE_KEPT, REJECTED_IN_REVIEW
from lbrxvoicepro.dataset.store import DatasetError, DatasetStore
from lbrxvoicepro.text import cer
from lbrxvoicepro.text.normalize import normalize_for_speech
from lbrxvoicepro.types import Audio, SpeechSpan, Utterance
from lbrxvoicepro.vad import speech_spans

PROMPTS_DIR = "prompts"
BUNDLED = Path(__file__).parent / "prompts"
SET_NAME = re.compile(r"[A-Za-z0-9][\w.-]{0,63}\Z")
MAX_PROMPTS = 10_000
MAX_PROMPT_CHARS = 500
WAVEFORM_POINTS = 200


@dataclass(frozen=True)
class TakeRef:
    """Which prompt a take read, and where the whole take lies; kept as the utterance's
    source (``studio:<set>:<number>:<take path>``)."""

    prompt_set: str
    number: int
    take_path: str

    @property
    def source(self) -> str:
        return f"studio:{self.prompt_set}:{self.number}:{self.take_path}"

    @classmethod
    def of(cls, utterance: Utterance) -> TakeRef | None:
        kind, _, rest = utterance.source.partition(":")
        prompt_set, _, rest = rest.partition(":")
        number, _, take_path = rest.partition(":")
        if kind != "studio" or not number.isdigit():
            return None
        return cls(prompt_set, int(number), take_path)


@dataclass(frozen=True)
class TakeVerdict:
    """A stored take and what the page shows of it."""

    utterance: Utterance
    take: TakeRef
    heard: str
    cer: float
    speech: tuple[float, float]
    """The trimmed speech, in seconds from the start of the take."""
    take_seconds: float
    sample_rate: int
    waveform: list[float]
    """Peak level of the whole take in ``WAVEFORM_POINTS`` steps, 0..1."""

    @property
    def keep(self) -> bool:
        return self.utterance.status == "accepted"


def prompt_sets(store: DatasetStore) -> list[str]:
    """The bundled sets (by language) and the dataset's own uploaded ones."""
    own = {p.stem for p in (store.root / PROMPTS_DIR).glob("*.txt")}
    return sorted({p.stem for p in BUNDLED.glob("*.txt")} | own)


def save_prompt_set(store: DatasetStore, name: str, text: str) -> list[str]:
    """Store an uploaded set (one prompt per line, ``#`` comments skipped) in the dataset."""
    if not SET_NAME.match(name):
        raise DatasetError(f"prompt set name {name!r}: use letters, digits, '_', '.', '-'")
    prompts = [line.strip() for line in text.splitlines()]
    prompts = [p for p in prompts if p and not p.startswith("#")]
    if not prompts:
        raise DatasetError(f"prompt set {name!r} has no prompts (one per line)")
    if len(prompts) > MAX_PROMPTS or max(map(len, prompts)) > MAX_PROMPT_CHARS:
        raise DatasetError(
            f"prompt set {name!r}: at most {MAX_PROMPTS} prompts of {MAX_PROMPT_CHARS} characters"
        )
    write_text(store.root / PROMPTS_DIR / f"{name}.txt", "\n".join(prompts) + "\n", mode=0o600)
    return prompts


def prompts_of(store: DatasetStore, name: str) -> list[str]:
    own = store.root / PROMPTS_DIR / f"{name}.txt"
    if SET_NAME.match(name) and own.is_file():
        return load_prompts(str(own))
    if SET_NAME.match(name) and (BUNDLED / f"{name}.txt").is_file():
        return load_prompts(name)
    raise DatasetError(f"no prompt set {name!r} (sets: {', '.join(prompt_sets(store))})")


def record_take(
    builder: DatasetBuilder, speaker_id: str, prompt_set: str, number: int, audio: Audio
) -> TakeVerdict:
    """Keep the take, trim it to its speech, hear it, judge it and store it; a take that
    passes becomes its prompt's kept take (an earlier kept one is set aside, not deleted)."""
    store = builder.store
    prompts = prompts_of(store, prompt_set)
    if not 1 <= number <= len(prompts):
        raise DatasetError(f"prompt set {prompt_set!r} has prompts 1 to {len(prompts)}")
    language = store.speaker(speaker_id).language
    take = TakeRef(prompt_set, number, store.add_take(audio, speaker_id))
    speech = resample(audio, 16000)
    spans = speech_spans(speech, builder.vad, builder.settings.dataset.segmenter)
    span = SpeechSpan(spans[0].start, spans[-1].end) if spans else SpeechSpan(0.0, audio.duration)
    transcript = builder.transcriber.transcribe(speech.slice(span.start, span.end), language)
    prompt = prompts[number - 1]
    distance = cer(
        normalize_for_speech(prompt, language), normalize_for_speech(transcript.text, language)
    )
    utterance = builder.keep(
        audio.slice(span.start, span.end),
        dataclasses.replace(
            draft(transcript, list(transcript.words), speaker_id, take.source, span, 0.0),
            text=prompt,
        ),
        {"prompt_cer": distance},
    )
    if utterance.status == "accepted":
        _set_aside_other_takes(store, utterance)
    return TakeVerdict(
        utterance,
        take,
        transcript.text,
        distance,
        (span.start, span.end),
        audio.duration,
        audio.sample_rate,
        _waveform(audio),
    )


def review(
    store: DatasetStore, identifier: str, text: str | None = None, status: str | None = None
) -> Utterance:
    """A collector's change: a corrected transcript, ``rejected`` (kept, marked as a person's
    decision) or ``accepted`` (restored; for a studio take, its prompt's kept take)."""
    decision: tuple[str, tuple[str, ...]] | None = None
    if status == "rejected":
        decision = ("rejected", (REJECTED_IN_REVIEW,))
    elif status == "accepted":
        decision = ("accepted", ())
    elif status is not None:
        raise DatasetError(f"status {status!r}: use 'accepted' or 'rejected'")
    if text is not None and not text.strip():
        raise DatasetError("a transcript cannot be empty; reject the utterance instead")
    utterance = store.revise(identifier, text.strip() if text else None, decision)
    if status == "accepted":
        _set_aside_other_takes(store, utterance)
    return utterance


def _set_aside_other_takes(store: DatasetStore, kept: Utterance) -> None:
    ref = TakeRef.of(kept)
    if ref is None:
        return
    for other in store.utterances(status="accepted", speaker=kept.speaker_id):
        mine = TakeRef.of(other)
        same = mine and (mine.prompt_set, mine.number) == (ref.prompt_set, ref.number)
        if same and other.id != kept.id:
            store.revise(other.id, status=("rejected", (ANOTHER_TAKE_KEPT,)))


@dataclass
class Progress:
    """One speaker's reading of one prompt set."""

    prompts: list[str]
    takes: dict[int, list[Utterance]]
    """Takes by prompt number, oldest first."""
    resume_at: int
    """The prompt to read next: the first without a kept take after the last one with one
    (then from the start), or 1 when every prompt has one."""

    @property
    def done(self) -> int:
        return sum(any(u.status == "accepted" for u in t) for t in self.takes.values())


def progress(store: DatasetStore, speaker_id: str, prompt_set: str) -> Progress:
    prompts = prompts_of(store, prompt_set)
    takes: dict[int, list[Utterance]] = {}
    for utterance in store.utterances(speaker=speaker_id):
        ref = TakeRef.of(utterance)
        if ref and ref.prompt_set == prompt_set and 1 <= ref.number <= len(prompts):
            takes.setdefault(ref.number, []).append(utterance)
    kept = {n for n, t in takes.items() if any(u.status == "accepted" for u in t)}
    last = max(kept, default=0)
    order = [*range(last + 1, len(prompts) + 1), *range(1, last + 1)]
    return Progress(prompts, takes, next((n for n in order if n not in kept), 1))


def _waveform(audio: Audio) -> list[float]:
    samples = np.abs(audio.samples)
    if not len(samples):
        return []
    edges = np.linspace(0, len(samples), WAVEFORM_POINTS + 1).astype(int)
    return [
        round(float(samples[a:b].max()), 3) if b > a else 0.0 for a, b in itertools.pairwise(edges)
    ]
