"""Catalog rows to and from utterances (the SQLite side of the store)."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from datetime import UTC, datetime

from lbrxvoicepro.types import Utterance, Word


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def words_json(words: tuple[Word, ...]) -> str:
    return json.dumps([dataclasses.astuple(w) for w in words], ensure_ascii=False)


def to_row(u: Utterance) -> dict[str, object]:
    return {
        "id": u.id,
        "speaker_id": u.speaker_id,
        "audio_path": u.audio_path,
        "duration": u.duration,
        "sample_rate": u.sample_rate,
        "text": u.text,
        "words": words_json(u.words),
        "language": u.language,
        "source": u.source,
        "source_start": u.source_start,
        "source_end": u.source_end,
        "avg_logprob": u.avg_logprob,
        "no_speech_prob": u.no_speech_prob,
        "compression_ratio": u.compression_ratio,
        "status": u.status,
        "reasons": json.dumps(list(u.reasons)),
        "metrics": json.dumps(u.metrics),
        "created_at": now(),
        "spoken_text": u.spoken_text,
        "spoken_words": words_json(u.spoken_words),
    }


def from_row(row: sqlite3.Row) -> Utterance:
    return Utterance(
        id=row["id"],
        speaker_id=row["speaker_id"],
        audio_path=row["audio_path"],
        duration=row["duration"],
        sample_rate=row["sample_rate"],
        text=row["text"],
        words=tuple(Word(*w) for w in json.loads(row["words"])),
        language=row["language"],
        source=row["source"],
        source_start=row["source_start"],
        source_end=row["source_end"],
        avg_logprob=row["avg_logprob"],
        no_speech_prob=row["no_speech_prob"],
        compression_ratio=row["compression_ratio"],
        status=row["status"],
        reasons=tuple(json.loads(row["reasons"])),
        metrics=json.loads(row["metrics"]),
        spoken_text=row["spoken_text"],
        spoken_words=tuple(Word(*w) for w in json.loads(row["spoken_words"])),
    )
