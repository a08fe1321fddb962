"""Formats that are a folder of WAVs and one table: Hugging Face audiofolder, LJSpeech, NeMo."""

from __future__ import annotations

from pathlib import Path

from lbrxvoicepro.audio import encode
from lbrxvoicepro.dataset.exporters.base import json_lines, load_audio, write_text
from lbrxvoicepro.dataset.store import DatasetStore
from lbrxvoicepro.text.normalize import normalize_for_speech
from lbrxvoicepro.types import Utterance


class HuggingFaceExporter:
    """``datasets.load_dataset("audiofolder", data_dir=out)``: one folder per split with
    ``metadata.jsonl`` (file_name, transcription, speaker_id, language, duration)."""

    name = "hf"
    sample_rate = 16000

    def write(self, store: DatasetStore, splits: dict[str, list[Utterance]], out: Path) -> None:
        for split_name, utterances in splits.items():
            rows = []
            for utterance in utterances:
                audio = load_audio(store, utterance, self.sample_rate)
                encode(audio, out / split_name / f"{utterance.id}.wav")
                rows.append(
                    {
                        "file_name": f"{utterance.id}.wav",
                        "transcription": utterance.text,
                        "speaker_id": utterance.speaker_id,
                        "language": utterance.language,
                        "duration": round(audio.duration, 4),
                    }
                )
            write_text(out / split_name / "metadata.jsonl", json_lines(rows))


class LJSpeechExporter:
    """``wavs/<id>.wav`` at 22.05 kHz and ``metadata.csv`` of ``id|text|normalized``."""

    name = "ljspeech"
    sample_rate = 22050

    def write(self, store: DatasetStore, splits: dict[str, list[Utterance]], out: Path) -> None:
        for split_name, utterances in splits.items():
            lines = []
            for utterance in utterances:
                encode(
                    load_audio(store, utterance, self.sample_rate),
                    out / split_name / "wavs" / f"{utterance.id}.wav",
                )
                text = " ".join(utterance.text.replace("|", " ").split())
                normalized = normalize_for_speech(text, utterance.language).replace("|", " ")
                lines.append(f"{utterance.id}|{text}|{normalized}\n")
            write_text(out / split_name / "metadata.csv", "".join(lines))


class NemoExporter:
    """``manifest.json``: one JSON object per line, {audio_filepath, duration, text}."""

    name = "nemo"
    sample_rate = 16000

    def write(self, store: DatasetStore, splits: dict[str, list[Utterance]], out: Path) -> None:
        for split_name, utterances in splits.items():
            rows = []
            for utterance in utterances:
                audio = load_audio(store, utterance, self.sample_rate)
                relative = f"wavs/{utterance.id}.wav"
                encode(audio, out / split_name / relative)
                rows.append(
                    {
                        "audio_filepath": relative,
                        "duration": round(audio.duration, 4),
                        "text": utterance.text,
                    }
                )
            write_text(out / split_name / "manifest.json", json_lines(rows))
