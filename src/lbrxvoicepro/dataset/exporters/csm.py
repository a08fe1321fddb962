"""csm-mlx fine-tuning: a JSON list of conversations, each a list of
{"text", "audio_path", "speaker"} (speaker an integer), with 24 kHz mono WAVs.

``audio_path`` is absolute, as csm-mlx's own converter writes it: its dataset opens the path as
given, relative to wherever training is started, not to the JSON's folder.

Utterances cut from one recording form one conversation, in recording order, so the model
learns from real context; speaker ids are the dataset's speakers numbered in sorted order.
"""

from __future__ import annotations

import json
from itertools import groupby
from pathlib import Path

from lbrxvoicepro.audio import encode
from lbrxvoicepro.dataset.exporters.base import (
    TextForm,
    load_audio,
    training_text,
    write_text,
)
from lbrxvoicepro.dataset.store import DatasetStore
from lbrxvoicepro.types import Utterance

SAMPLE_RATE = 24000


class CsmExporter:
    name = "csm"

    def __init__(self, text_form: TextForm = "spoken") -> None:
        self.text_form = text_form

    def write(self, store: DatasetStore, splits: dict[str, list[Utterance]], out: Path) -> None:
        numbers = {s.id: n for n, s in enumerate(store.speakers())}
        for split_name, utterances in splits.items():
            ordered = sorted(utterances, key=lambda u: (u.source, u.source_start))
            conversations = []
            for _, turns in groupby(ordered, key=lambda u: u.source):
                conversation = []
                for utterance in turns:
                    wav = (out / split_name / f"audio/{utterance.id}.wav").resolve()
                    encode(load_audio(store, utterance, SAMPLE_RATE), wav)
                    conversation.append(
                        {
                            "text": training_text(utterance, self.text_form),
                            "audio_path": str(wav),
                            "speaker": numbers[utterance.speaker_id],
                        }
                    )
                conversations.append(conversation)
            write_text(
                out / split_name / "conversations.json",
                json.dumps(conversations, ensure_ascii=False, indent=1),
            )
