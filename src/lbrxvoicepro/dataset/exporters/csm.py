"""csm-mlx fine-tuning: a JSON list of conversations, each a list of
{"text", "audio_path", "speaker"} (speaker an integer), with 24 kHz mono WAVs.

Utterances cut from one recording form one conversation, in recording order, so the model
learns from real context; speaker ids are the dataset's speakers numbered in sorted order.
"""

from __future__ import annotations

import json
from itertools import groupby
from pathlib import Path

from lbrxvoicepro.audio import encode
from lbrxvoicepro.dataset.exporters.base import load_audio, write_text
from lbrxvoicepro.dataset.store import DatasetStore
from lbrxvoicepro.types import Utterance

SAMPLE_RATE = 24000


class CsmExporter:
    name = "csm"

    def write(self, store: DatasetStore, splits: dict[str, list[Utterance]], out: Path) -> None:
        numbers = {s.id: n for n, s in enumerate(store.speakers())}
        for split_name, utterances in splits.items():
            ordered = sorted(utterances, key=lambda u: (u.source, u.source_start))
            conversations = []
            for _, turns in groupby(ordered, key=lambda u: u.source):
                conversation = []
                for utterance in turns:
                    relative = f"audio/{utterance.id}.wav"
                    encode(load_audio(store, utterance, SAMPLE_RATE), out / split_name / relative)
                    conversation.append(
                        {
                            "text": utterance.text,
                            "audio_path": relative,
                            "speaker": numbers[utterance.speaker_id],
                        }
                    )
                conversations.append(conversation)
            write_text(
                out / split_name / "conversations.json",
                json.dumps(conversations, ensure_ascii=False, indent=1),
            )
