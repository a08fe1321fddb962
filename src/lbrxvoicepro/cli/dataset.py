"""Dataset commands: ingest, validate, convert, stats, speaker (``collect`` is in
``cli/collect.py``) and what they share: opening a dataset, its speakers, the builder."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, cast

import typer

from lbrxvoicepro.config import Settings
from lbrxvoicepro.dataset.crypto import cipher_for
from lbrxvoicepro.dataset.store import CATALOG, DatasetError, DatasetStore
from lbrxvoicepro.errors import ConfigError
from lbrxvoicepro.types import Speaker

if TYPE_CHECKING:
    from lbrxvoicepro.dataset.builder import DatasetBuilder, IngestReport

DatasetOption = Annotated[
    Path | None,
    typer.Option("--dataset", "-d", help="Dataset directory [default: the configured data dir]."),
]
SpeakerOption = Annotated[
    str, typer.Option("--speaker", "-s", help="Speaker id; created on first use.")
]
SpeakerLanguageOption = Annotated[
    str | None,
    typer.Option(
        "--language",
        "-l",
        help="What the speaker speaks (pl, en, de, ...), for a speaker created now; speech is "
        "transcribed in the speaker's language. [default: asr.language, pl]",
    ),
]


def open_store(settings: Settings, dataset: Path | None, create: bool = False) -> DatasetStore:
    """The dataset at ``dataset`` (or the configured one). Only commands that record into it
    ``create`` it: a misspelt name elsewhere is an error, not a new empty dataset."""
    root = dataset or settings.dataset.data_dir
    if root.exists() and not root.is_dir():
        raise DatasetError(f"{root} is a file, not a dataset directory")
    if not create and not (root / CATALOG).is_file():
        raise DatasetError(
            f"no dataset at {root}: `lbrxvoicepro ingest` or `collect` creates one "
            "(--dataset names its folder)"
        )
    return DatasetStore(root, cipher_for(settings.dataset))


def ensure_speaker(
    store: DatasetStore, speaker: str, settings: Settings, language: str | None = None
) -> None:
    """The speaker, created on first use in ``language``; an existing speaker keeps theirs,
    and a different ``language`` for them is an error rather than a silent mislabel."""
    from faster_whisper.tokenizer import _LANGUAGE_CODES as WHISPER_LANGUAGES

    if not speaker.strip():
        raise typer.BadParameter("give a speaker id", param_hint="--speaker")
    if language is not None and language not in WHISPER_LANGUAGES:
        raise typer.BadParameter(
            f"unknown language {language!r}: an ISO 639-1 code Whisper knows (pl, en, de, ...)",
            param_hint="--language",
        )
    known = {s.id: s for s in store.speakers()}
    if speaker in known:
        if language is not None and known[speaker].language != language:
            raise ConfigError(
                f"speaker {speaker!r} speaks {known[speaker].language!r}, not {language!r}: "
                f"use another speaker id, or `lbrxvoicepro speaker {speaker} --language "
                f"{language}` to change it"
            )
        return
    default = settings.asr.language if settings.asr.language != "auto" else "pl"
    store.add_speaker(Speaker(speaker, speaker, language or default))


def builder_for(settings: Settings, store: DatasetStore) -> DatasetBuilder:
    from concurrent.futures import ThreadPoolExecutor

    from lbrxvoicepro.dataset.builder import DatasetBuilder
    from lbrxvoicepro.dataset.quality import preload
    from lbrxvoicepro.runtime import ModelManager

    # The loudness meter's imports (SciPy, about 1.5 s) load while Whisper does.
    with ThreadPoolExecutor(max_workers=1) as pool:
        meter = pool.submit(preload)
        models = ModelManager(settings)
        builder = DatasetBuilder(store, models.transcriber(), models.vad(), settings)
        meter.result()
    return builder


def speaker(
    ctx: typer.Context,
    speaker_id: Annotated[str, typer.Argument(help="Speaker id.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    language: Annotated[str, typer.Option(help="Language code.")] = "pl",
    consent_by: Annotated[
        str, typer.Option("--consent-by", help="Who recorded the speaker's consent.")
    ] = "",
    dataset: DatasetOption = None,
) -> None:
    """Add or update a speaker; --consent-by records consent given now."""
    from datetime import UTC, datetime

    store = open_store(ctx.obj, dataset, create=True)
    consent_at = datetime.now(UTC).isoformat(timespec="seconds") if consent_by else ""
    store.add_speaker(
        Speaker(speaker_id, name or speaker_id, language, bool(consent_by), consent_at, consent_by)
    )
    typer.echo(f"speaker {speaker_id} saved in {store.root}")


def ingest(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Audio files and folders.")],
    speaker_id: SpeakerOption,
    language: SpeakerLanguageOption = None,
    dataset: DatasetOption = None,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            metavar="ADDRESS",
            help="Decode, find speech and transcribe on a Ray cluster: 'auto' (the one `ray "
            "start` runs here), its address (host:6379), or 'local' (a private one). This "
            "process still stores everything; the files must be on storage every node reads. "
            "Needs lbrxvoicepro[ray] (docs/datasets.md).",
        ),
    ] = None,
) -> None:
    """Add recordings: cut by VAD, transcribe, judge and store; resumable, skips done files."""
    from rich.progress import Progress, TimeElapsedColumn

    from lbrxvoicepro.dataset.builder import IngestReport, LocalRecognition, Recognition, expand

    settings: Settings = ctx.obj
    store = open_store(settings, dataset, create=True)
    ensure_speaker(store, speaker_id, settings, language)
    builder = builder_for(settings, store)
    report = IngestReport()
    with Progress(*Progress.get_default_columns(), TimeElapsedColumn(), transient=True) as progress:
        task = progress.add_task("files", total=len(expand(paths)))
        recognition: Recognition
        if ray:
            from lbrxvoicepro.dataset.distributed import RayRecognition, connect

            connect(ray)
            recognition = RayRecognition(settings, ray)
        else:
            audio = progress.add_task("transcribing", total=None)

            def transcribed(done: float, total: float) -> None:
                if done == 0:
                    description = f"transcribing {total:.0f} s of audio"
                    progress.reset(audio, total=total, description=description)
                else:
                    progress.update(audio, completed=done)

            recognition = LocalRecognition(builder, progress=transcribed)

        def interrupted() -> None:
            progress.stop()
            _interrupted(report)

        _until_done_or_interrupted(
            lambda: builder.ingest(
                paths,
                speaker_id,
                lambda _: progress.advance(task),
                report=report,
                recognition=recognition,
            ),
            interrupted,
        )
    typer.echo(
        f"{report.files_done} file(s) ingested, {report.files_skipped} already done: "
        f"{report.accepted} utterances accepted, {report.rejected} rejected, "
        f"{report.speech_seconds / 60:.1f} min of speech",
        err=True,
    )
    for path, reason in report.failures:
        typer.echo(f"error: {path}: {reason}", err=True)
    if report.failures:
        raise typer.Exit(1)


def _until_done_or_interrupted(work: Callable[[], object], interrupted: Callable[[], None]) -> None:
    """Run ``work`` in a thread the main thread waits on, so that Ctrl-C is heard at once
    (not when Whisper's current batch returns). Every finished file is already committed and
    the file in progress is redone by the next run, so on Ctrl-C the process may end now."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as error:  # re-raised on the main thread
            failure.append(error)

    worker = threading.Thread(target=run, name="ingest", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.2)
    except KeyboardInterrupt:
        interrupted()
        sys.stderr.flush()
        os._exit(130)  # the worker is inside Whisper; nothing uncommitted is worth waiting for
    if failure:
        raise failure[0]


def _interrupted(report: IngestReport) -> None:
    typer.echo(
        f"\ninterrupted: {report.files_done} file(s) ingested and kept ({report.accepted} "
        f"utterances accepted, {report.rejected} rejected); run the same command again to "
        "go on: done files are skipped, the one in progress is redone",
        err=True,
    )


def validate(ctx: typer.Context, dataset: DatasetOption = None) -> None:
    """Measure and judge every utterance; write validation.json and validation.html."""
    from rich.progress import Progress

    from lbrxvoicepro.dataset.report import write_report
    from lbrxvoicepro.dataset.validate import validate as run

    settings: Settings = ctx.obj
    store = open_store(settings, dataset)
    with Progress(transient=True) as progress:
        task = progress.add_task("validating", total=len(store.utterances()))
        report = run(store, settings.dataset.validation, lambda: progress.advance(task))
    json_path, html_path = write_report(report, store.root)
    typer.echo(
        f"{report.total} utterances: {report.accepted} accepted, {report.rejected} rejected; "
        f"report: {html_path} ({json_path.name})"
    )


def convert(
    ctx: typer.Context,
    format: Annotated[
        str, typer.Option("--format", "-f", help="moshi, mimi, csm, hf, ljspeech, nemo")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output directory.")],
    split_by: Annotated[
        str, typer.Option("--split-by", help="'ratio' (utterances) or 'speaker'.")
    ] = "ratio",
    validation: Annotated[
        float, typer.Option(help="Share held out for validation (0 for none).")
    ] = 0.1,
    seed: Annotated[int, typer.Option(help="Seed of the split.")] = 0,
    mimi_model: Annotated[
        Path | None, typer.Option("--mimi-model", help="Local Mimi model (format mimi).")
    ] = None,
    codebooks: Annotated[int, typer.Option(help="Mimi codebooks: 8 or 32.")] = 8,
    text: Annotated[
        str,
        typer.Option(
            "--text",
            help="Transcript to train on: 'spoken' (numbers, dates and abbreviations said in "
            "words, as TTS needs) or 'written' (Whisper's text).",
        ),
    ] = "spoken",
    dataset: DatasetOption = None,
) -> None:
    """Export accepted utterances in a format training code reads.

    Formats: moshi (moshi-finetune), mimi (Mimi codes), csm (csm-mlx), hf (audiofolder),
    ljspeech, nemo. Each split is written under OUTPUT/train and OUTPUT/validation. Texts are
    in spoken form ("o czternastej trzydzieści", not "o 14:30") unless --text written.
    """
    from lbrxvoicepro.dataset.exporters import convert as run

    if split_by not in ("ratio", "speaker"):
        raise typer.BadParameter("use 'ratio' or 'speaker'", param_hint="--split-by")
    by = cast(Literal["ratio", "speaker"], split_by)
    if text not in ("spoken", "written"):
        raise typer.BadParameter("use 'spoken' or 'written'", param_hint="--text")
    form = cast(Literal["spoken", "written"], text)
    if not 0 <= validation < 1:
        raise typer.BadParameter(
            f"a share from 0 up to (not including) 1; got {validation}", param_hint="--validation"
        )
    if mimi_model is not None and not mimi_model.is_dir():
        raise typer.BadParameter(
            f"{mimi_model}: no such directory (a local Mimi model: config.json and "
            "model.safetensors)",
            param_hint="--mimi-model",
        )
    if output.exists() and not output.is_dir():
        raise typer.BadParameter(f"{output} is a file; give a directory", param_hint="--output")
    store = open_store(ctx.obj, dataset)
    report = run(store, format, output, by, validation, seed, mimi_model, codebooks, form)
    for name, count in report.files.items():
        typer.echo(
            f"{name}: {count} utterances, {report.seconds[name] / 60:.1f} min -> {output / name}"
        )
    if validation > 0 and "validation" not in report.files:
        why = (
            "--split-by speaker needs at least two speakers"
            if by == "speaker"
            else f"{validation:.0%} of {report.files.get('train', 0)} utterances rounds to none"
        )
        typer.echo(f"warning: no validation split: {why}", err=True)


def stats(ctx: typer.Context, dataset: DatasetOption = None) -> None:
    """Counts, accepted speech (h:mm:ss) per speaker and acceptance rates."""
    store = open_store(ctx.obj, dataset)
    typer.echo(f"{'speaker':<20} {'accepted':>9} {'rejected':>9} {'speech':>9} {'accept %':>9}")
    for row in store.stats():
        total = row.accepted + row.rejected
        rate = 100 * row.accepted / total if total else 0.0
        seconds = round(row.accepted_seconds)
        speech = f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        typer.echo(
            f"{row.speaker_id:<20} {row.accepted:>9} {row.rejected:>9} {speech:>9} {rate:>8.1f}%"
        )
    failed = store.failed_sources()
    if failed:
        typer.echo(f"{len(failed)} source file(s) failed:")
        for path, reason in failed:
            typer.echo(f"  {path}: {reason}")
