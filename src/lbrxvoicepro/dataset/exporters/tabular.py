"""Formats that are a folder of WAVs and one table: Hugging Face audiofolder, LJSpeech, NeMo."""

from __future__ import annotations

from pathlib import Path

from lbrxvoicepro.audio import encode
from lbrxvoicepro.dataset.exporters.base import (
    TextForm,
    json_lines,
    load_audio,
    training_text,
    write_text,
)
from lbrxvoicepro.dataset.store import DatasetStore
from lbrxvoicepro.types import Utterance


class _WavTableExporter:
    """Each utterance as ``<wav_dir>/<id>.wav`` at ``sample_rate``; one table row per file."""

    name = ""
    sample_rate = 16000
    wav_dir = "wavs"
    table = ""

    def __init__(self, text_form: TextForm = "spoken") -> None:
        self.text_form = text_form

    def row(self, utterance: Utterance, wav: str, duration: float) -> str:
        raise NotImplementedError

    def write(self, store: DatasetStore, splits: dict[str, list[Utterance]], out: Path) -> None:
        for split_name, utterances in splits.items():
            rows = []
            for utterance in utterances:
                audio = load_audio(store, utterance, self.sample_rate)
                wav = (
                    f"{self.wav_dir}/{utterance.id}.wav" if self.wav_dir else f"{utterance.id}.wav"
                )
                encode(audio, out / split_name / wav)
                rows.append(self.row(utterance, wav, round(audio.duration, 4)))
            write_text(out / split_name / self.table, "".join(rows))


class HuggingFaceExporter(_WavTableExporter):
    """``datasets.load_dataset("audiofolder", data_dir=out)``: one folder per split with
    ``metadata.jsonl`` (file_name, transcription, speaker_id, language, duration)."""

    name = "hf"
    wav_dir = ""
    table = "metadata.jsonl"

    def row(self, utterance: Utterance, wav: str, duration: float) -> str:
        return json_lines(
            [
                {
                    "file_name": wav,
                    "transcription": training_text(utterance, self.text_form),
                    "speaker_id": utterance.speaker_id,
                    "language": utterance.language,
                    "duration": duration,
                }
            ]
        )


class LJSpeechExporter(_WavTableExporter):
    """``wavs/<id>.wav`` at 22.05 kHz and ``metadata.csv`` of ``id|text|normalized``: Whisper's
    text, then the text to train on (the spoken form unless the written one is asked for)."""

    name = "ljspeech"
    sample_rate = 22050
    table = "metadata.csv"

    def row(self, utterance: Utterance, wav: str, duration: float) -> str:
        text = " ".join(utterance.text.replace("|", " ").split())
        normalized = " ".join(training_text(utterance, self.text_form).replace("|", " ").split())
        return f"{utterance.id}|{text}|{normalized}\n"


class NemoExporter(_WavTableExporter):
    """``manifest.json``: one JSON object per line, {audio_filepath, duration, text, lang}, with
    paths relative to the manifest (``lang`` is what lhotse's NeMo reader takes the language
    from)."""

    name = "nemo"
    table = "manifest.json"

    def row(self, utterance: Utterance, wav: str, duration: float) -> str:
        return json_lines(
            [
                {
                    "audio_filepath": wav,
                    "duration": duration,
                    "text": training_text(utterance, self.text_form),
                    "lang": utterance.language,
                }
            ]
        )
