"""``/v1/datasets``: create, add audio, list, validate, export and download (role collector)."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from lbrxvoicepro.dataset.crypto import cipher_for
from lbrxvoicepro.dataset.store import DatasetStore
from lbrxvoicepro.kb.base import NAME_PATTERN
from lbrxvoicepro.server.audio_routes import upload_limits
from lbrxvoicepro.server.auth import Principal
from lbrxvoicepro.server.deps import ServerState, require, state_of
from lbrxvoicepro.server.inputs import safe_filename
from lbrxvoicepro.types import Speaker

router = APIRouter(prefix="/v1/datasets", tags=["datasets"])
Collector = Annotated[Principal, Depends(require("collector"))]
Format = Literal["moshi", "mimi", "csm", "hf", "ljspeech", "nemo"]


def _root(state: ServerState, name: str, create: bool = False) -> Path:
    if not NAME_PATTERN.match(name):
        raise HTTPException(422, "a dataset name is letters, digits, '_', '.', '-' (up to 64)")
    root = state.settings.server.datasets_dir / name
    if not create and not (root / "catalog.sqlite").is_file():
        raise HTTPException(404, f"no dataset named {name!r}")
    return root


def open_dataset(state: ServerState, name: str, create: bool = False) -> DatasetStore:
    return DatasetStore(_root(state, name, create), cipher_for(state.settings.dataset))


def _summary(store: DatasetStore, name: str) -> dict[str, object]:
    return {
        "name": name,
        "speakers": [
            {
                "id": s.speaker_id,
                "accepted": s.accepted,
                "rejected": s.rejected,
                "accepted_seconds": round(s.accepted_seconds, 1),
            }
            for s in store.stats()
        ],
        "failed_sources": [
            {"source": Path(s).name, "reason": r} for s, r in store.failed_sources()
        ],
    }


@router.get("")
async def list_datasets(request: Request, _: Collector) -> dict[str, list[str]]:
    folder = state_of(request).settings.server.datasets_dir
    names = sorted(p.parent.name for p in folder.glob("*/catalog.sqlite"))
    return {"datasets": names}


@router.post("/{name}", status_code=201)
async def create_dataset(request: Request, name: str, _: Collector) -> dict[str, object]:
    store = await asyncio.to_thread(open_dataset, state_of(request), name, True)
    return _summary(store, name)


@router.get("/{name}")
async def describe_dataset(request: Request, name: str, _: Collector) -> dict[str, object]:
    store = await asyncio.to_thread(open_dataset, state_of(request), name)
    return _summary(store, name)


@router.post("/{name}/audio")
async def add_audio(
    request: Request,
    name: str,
    files: Annotated[list[UploadFile], File(description="recordings: wav, flac, mp3, ogg, ...")],
    speaker: Annotated[str, Form(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][\w.-]*$")],
    _: Collector,
) -> dict[str, object]:
    """Cut by VAD, transcribe, judge and store; bad files are listed and the rest go in."""
    from lbrxvoicepro.dataset.builder import DatasetBuilder

    state = state_of(request)
    store = await asyncio.to_thread(open_dataset, state, name)
    if speaker not in {s.id for s in store.speakers()}:
        store.add_speaker(Speaker(speaker, speaker, state.settings.asr.language))
    transcriber = await asyncio.to_thread(state.models.transcriber)
    vad = await asyncio.to_thread(state.models.vad)
    builder = DatasetBuilder(store, transcriber, vad, state.settings)
    # Uploads are spooled to a private temporary folder outside the data folders and removed
    # once ingested: only the store's (possibly encrypted) audio is kept. Each is known by its
    # content hash and name, so a re-upload is skipped and a different file of the same name
    # is not.
    with tempfile.TemporaryDirectory(prefix="lbrx-upload-") as spool:
        paths, sources, names = [], {}, {}
        for index, upload in enumerate(files):
            data = await upload.read()
            original = safe_filename(upload.filename, "recording")
            path = Path(spool) / f"{index}{Path(original).suffix[:16]}"
            await asyncio.to_thread(path.write_bytes, data)
            paths.append(path)
            sources[path] = f"upload:{hashlib.sha256(data).hexdigest()}/{original}"
            names[str(path)] = original
        report = await asyncio.to_thread(
            builder.ingest, paths, speaker, None, sources, upload_limits(state.settings)
        )
    return {
        "files_done": report.files_done,
        "files_skipped": report.files_skipped,
        "accepted": report.accepted,
        "rejected": report.rejected,
        "speech_seconds": round(report.speech_seconds, 1),
        "failed": [{"source": names.get(s, s), "reason": r} for s, r in report.failures],
    }


@router.post("/{name}/validate")
async def validate_dataset(request: Request, name: str, _: Collector) -> dict[str, object]:
    from lbrxvoicepro.dataset.report import write_report
    from lbrxvoicepro.dataset.validate import validate

    state = state_of(request)
    store = await asyncio.to_thread(open_dataset, state, name)
    report = await asyncio.to_thread(validate, store, state.settings.dataset.validation)
    await asyncio.to_thread(write_report, report, store.root)
    return {
        "total": report.total,
        "accepted": report.accepted,
        "rejected": report.rejected,
        "reasons": report.reasons,
    }


@router.post("/{name}/export", response_class=FileResponse)
async def export_dataset(
    request: Request,
    name: str,
    format: Format,
    _: Collector,
    validation: Annotated[float, Query(ge=0.0, lt=1.0, allow_inf_nan=False)] = 0.1,
) -> FileResponse:
    """Export the accepted utterances in a training format and download it as a zip."""
    from lbrxvoicepro.dataset.exporters import convert

    state = state_of(request)
    store = await asyncio.to_thread(open_dataset, state, name)
    work = Path(tempfile.mkdtemp(prefix="lbrx-export-"))
    try:
        await asyncio.to_thread(convert, store, format, work / format, "ratio", validation)
        archive = work / f"{name}-{format}.zip"
        await asyncio.to_thread(_zip, work / format, archive)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return FileResponse(
        archive,
        media_type="application/zip",
        filename=archive.name,
        background=BackgroundTask(shutil.rmtree, work, ignore_errors=True),
    )


def _zip(folder: Path, archive: Path) -> None:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                out.write(path, path.relative_to(folder).as_posix())
