"""The studio's API (role collector): speakers with consent, prompt sets, takes with their
verdict, progress, and review of a dataset's utterances (playback, corrected transcripts,
reject / restore, charts). Audio is read and written through the store, so encryption at rest
holds for takes as for every utterance."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Literal, TypeVar

import numpy as np
from fastapi import APIRouter, Body, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from lbrxvoicepro.audio import encode
from lbrxvoicepro.dataset import studio
from lbrxvoicepro.dataset.store import DatasetStore
from lbrxvoicepro.server.dataset_routes import Collector, open_dataset
from lbrxvoicepro.server.deps import ServerState, state_of
from lbrxvoicepro.types import Audio, Speaker, Utterance

router = APIRouter(prefix="/v1/datasets", tags=["studio"])
NAME = r"^[A-Za-z0-9][\w.-]*$"
"""Speaker ids and prompt set names (up to 64 characters): they name files."""
SpeakerId = Annotated[str, Query(min_length=1, max_length=64, pattern=NAME)]
SetName = Annotated[str, Query(min_length=1, max_length=64, pattern=NAME)]
MAX_TAKE_SECONDS = 120.0
T = TypeVar("T")
CHARTED = ("duration", "snr_db", "loudness_lufs", "prompt_cer")


class NewSpeaker(BaseModel):
    id: str = Field(min_length=1, max_length=64, pattern=NAME)
    name: str = Field("", max_length=200)
    language: str = Field("pl", pattern=r"^[a-z]{2,3}$")
    consent: bool = Field(description="the speaker agrees to be recorded for this dataset")


class Revision(BaseModel):
    text: str | None = Field(None, max_length=2000)
    status: Literal["accepted", "rejected"] | None = None


@contextmanager
def _dataset(state: ServerState, name: str) -> Iterator[DatasetStore]:
    store = open_dataset(state, name)
    try:
        yield store
    finally:
        store.close()


async def _on_dataset(request: Request, name: str, work: Callable[[DatasetStore], T]) -> T:
    """``work(store)`` on the dataset in a worker thread (SQLite and audio block)."""
    state = state_of(request)

    def run() -> T:
        with _dataset(state, name) as store:
            return work(store)

    return await asyncio.to_thread(run)


@router.get("/{name}/speakers")
async def list_speakers(request: Request, name: str, _: Collector) -> dict[str, object]:
    speakers = await _on_dataset(request, name, lambda store: store.speakers())
    return {"speakers": [{"id": s.id, "name": s.name, "language": s.language} for s in speakers]}


@router.post("/{name}/speakers", status_code=201)
async def add_speaker(
    request: Request, name: str, speaker: NewSpeaker, who: Collector
) -> dict[str, str]:
    """A speaker is recorded only with their consent, stored with when and who recorded it."""
    if not speaker.consent:
        raise HTTPException(422, "the speaker's consent is required before recording")
    entry = Speaker(
        speaker.id,
        speaker.name or speaker.id,
        speaker.language,
        True,
        datetime.now(UTC).isoformat(timespec="seconds"),
        who.subject,
    )
    await _on_dataset(request, name, lambda store: store.add_speaker(entry))
    return {"id": entry.id, "language": entry.language}


@router.get("/{name}/prompts")
async def list_prompt_sets(request: Request, name: str, _: Collector) -> dict[str, list[str]]:
    return {"sets": await _on_dataset(request, name, studio.prompt_sets)}


@router.put("/{name}/prompts/{prompt_set}")
async def upload_prompt_set(
    request: Request,
    name: str,
    prompt_set: str,
    text: Annotated[str, Body(media_type="text/plain")],
    _: Collector,
) -> dict[str, object]:
    """A prompt set of the dataset's own: a text file, one prompt per line."""
    prompts = await _on_dataset(
        request, name, lambda store: studio.save_prompt_set(store, prompt_set, text)
    )
    return {"name": prompt_set, "prompts": len(prompts)}


@router.get("/{name}/progress")
async def reading_progress(
    request: Request, name: str, speaker: SpeakerId, prompts: SetName, _: Collector
) -> dict[str, object]:
    """Every prompt with its takes, what is done, and where to resume."""

    def work(store: DatasetStore) -> dict[str, object]:
        done = studio.progress(store, speaker, prompts)
        takes = [u for t in done.takes.values() for u in t]
        return {
            "speaker": speaker,
            "prompts": [
                {"number": n, "text": text, "takes": [_take(u) for u in done.takes.get(n, [])]}
                for n, text in enumerate(done.prompts, 1)
            ],
            "done": done.done,
            "total": len(done.prompts),
            "resume_at": done.resume_at,
            "seconds_recorded": round(sum(u.duration for u in takes), 1),
            "seconds_accepted": round(sum(u.duration for u in takes if u.status == "accepted"), 1),
        }

    return await _on_dataset(request, name, work)


@router.post("/{name}/takes")
async def add_take(
    request: Request,
    name: str,
    speaker: SpeakerId,
    prompts: SetName,
    number: Annotated[int, Query(ge=1)],
    sample_rate: Annotated[int, Query(ge=8000, le=192000)],
    _: Collector,
) -> dict[str, object]:
    """One take: the body is mono 16-bit little-endian PCM at ``sample_rate``, stored as sent
    before it is judged; the answer is the verdict."""
    body = await request.body()
    if not body or len(body) % 2:
        raise HTTPException(422, "a take is 16-bit PCM: a non-empty, even number of bytes")
    if len(body) > MAX_TAKE_SECONDS * sample_rate * 2:
        raise HTTPException(413, f"a take is at most {MAX_TAKE_SECONDS:g} s long")
    audio = Audio(np.frombuffer(body, "<i2").astype(np.float32) / 32768, sample_rate)
    state = state_of(request)
    transcriber = await asyncio.to_thread(state.models.transcriber)
    vad = await asyncio.to_thread(state.models.vad)

    def work(store: DatasetStore) -> studio.TakeVerdict:
        from lbrxvoicepro.dataset.builder import DatasetBuilder

        builder = DatasetBuilder(store, transcriber, vad, state.settings)
        return studio.record_take(builder, speaker, prompts, number, audio)

    verdict = await _on_dataset(request, name, work)
    return {
        **_take(verdict.utterance),
        "number": verdict.take.number,
        "suggestion": "keep" if verdict.keep else "redo",
        "heard": verdict.heard,
        "speech": [round(t, 3) for t in verdict.speech],
        "take_seconds": round(verdict.take_seconds, 3),
        "sample_rate": verdict.sample_rate,
        "waveform": verdict.waveform,
    }


@router.get("/{name}/utterances")
async def list_utterances(
    request: Request,
    name: str,
    _: Collector,
    speaker: Annotated[str | None, Query(max_length=64)] = None,
    status: Literal["accepted", "rejected"] | None = None,
) -> dict[str, object]:
    found = await _on_dataset(request, name, lambda s: s.utterances(status, speaker))
    return {"utterances": [{**_take(u), "speaker": u.speaker_id} for u in found]}


@router.get("/{name}/utterances/{identifier}/audio")
async def utterance_audio(request: Request, name: str, identifier: str, _: Collector) -> Response:
    """The utterance as WAV (decrypted when the dataset is encrypted at rest)."""

    def work(store: DatasetStore) -> bytes:
        buffer = io.BytesIO()
        encode(store.read_audio(store.utterance(identifier)), buffer, "wav")
        return buffer.getvalue()

    return Response(await _on_dataset(request, name, work), media_type="audio/wav")


@router.patch("/{name}/utterances/{identifier}")
async def revise_utterance(
    request: Request, name: str, identifier: str, change: Revision, _: Collector
) -> dict[str, object]:
    """Fix the transcript, reject, or restore (a restored studio take becomes its prompt's
    kept take)."""
    revised = await _on_dataset(
        request, name, lambda store: studio.review(store, identifier, change.text, change.status)
    )
    return _take(revised)


@router.get("/{name}/charts")
async def charts(request: Request, name: str, _: Collector) -> dict[str, object]:
    """Distributions of duration, SNR, loudness and prompt CER (inline SVG, thresholds drawn)."""
    from lbrxvoicepro.dataset.report import chart
    from lbrxvoicepro.dataset.validate import thresholds

    limits = thresholds(state_of(request).settings.dataset.validation)

    def work(store: DatasetStore) -> list[dict[str, str]]:
        found = store.utterances()
        drawn = []
        for metric in CHARTED:
            values = [u.metrics[metric] for u in found if metric in u.metrics]
            if values:
                drawn.append(
                    {"metric": metric, "svg": chart(metric, values, limits.get(metric, {}))}
                )
        return drawn

    return {"charts": await _on_dataset(request, name, work)}


def _take(utterance: Utterance) -> dict[str, object]:
    ref = studio.TakeRef.of(utterance)
    return {
        "id": utterance.id,
        "status": utterance.status,
        "reasons": list(utterance.reasons),
        "text": utterance.text,
        "duration": round(utterance.duration, 3),
        "prompt": {"set": ref.prompt_set, "number": ref.number} if ref else None,
        "metrics": {k: round(v, 4) for k, v in utterance.metrics.items()},
    }
