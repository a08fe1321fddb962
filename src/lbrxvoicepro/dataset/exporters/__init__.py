"""Dataset exporters by format name."""

from __future__ import annotations

from pathlib import Path

from lbrxvoicepro.dataset.exporters.base import (
    Exporter,
    ExportReport,
    SplitBy,
    TextForm,
    split,
)
from lbrxvoicepro.dataset.exporters.csm import CsmExporter
from lbrxvoicepro.dataset.exporters.mimi import MimiExporter
from lbrxvoicepro.dataset.exporters.moshi import MoshiExporter
from lbrxvoicepro.dataset.exporters.tabular import (
    HuggingFaceExporter,
    LJSpeechExporter,
    NemoExporter,
)
from lbrxvoicepro.dataset.store import DatasetError, DatasetStore
from lbrxvoicepro.errors import ConfigError

EXPORTERS: dict[str, type[Exporter]] = {
    "moshi": MoshiExporter,
    "mimi": MimiExporter,
    "csm": CsmExporter,
    "hf": HuggingFaceExporter,
    "ljspeech": LJSpeechExporter,
    "nemo": NemoExporter,
}


def convert(
    store: DatasetStore,
    format: str,
    out: Path,
    by: SplitBy = "ratio",
    validation: float = 0.1,
    seed: int = 0,
    mimi_model: Path | None = None,
    codebooks: int = 8,
    text_form: TextForm = "spoken",
) -> ExportReport:
    """Export the accepted utterances in a format, split into train and validation, with the
    spoken form of each transcript (or, with ``text_form="written"``, Whisper's text)."""
    if format not in EXPORTERS:
        raise ConfigError(f"unknown format {format!r}; known formats: {', '.join(EXPORTERS)}")
    accepted = store.utterances(status="accepted")
    if not accepted:
        raise DatasetError(f"{store.root}: no accepted utterances to export")
    splits = split(accepted, by, validation, seed)
    if text_form not in ("spoken", "written"):
        raise ConfigError(f"unknown text form {text_form!r}: spoken or written")
    writer = (
        MimiExporter(mimi_model, codebooks, text_form)
        if format == "mimi"
        else EXPORTERS[format](text_form)  # type: ignore[call-arg]
    )
    writer.write(store, splits, out)
    return ExportReport(
        format,
        out,
        files={name: len(items) for name, items in splits.items()},
        seconds={name: sum(u.duration for u in items) for name, items in splits.items()},
    )


__all__ = ["EXPORTERS", "ExportReport", "Exporter", "TextForm", "convert", "split"]
