"""Render a transcript as plain text, JSON, SubRip or WebVTT."""

from __future__ import annotations

import dataclasses
import json

from lbrxvoicepro.types import Transcript

FORMATS = ("txt", "json", "srt", "vtt")


def render(transcript: Transcript, format: str, word_timestamps: bool = False) -> str:
    if format == "txt":
        return transcript.text + "\n"
    if format == "json":
        return to_json(transcript, word_timestamps)
    if format in ("srt", "vtt"):
        return _subtitles(transcript, format, word_timestamps)
    raise ValueError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")


def to_json(transcript: Transcript, word_timestamps: bool = True) -> str:
    data = dataclasses.asdict(transcript)
    if not word_timestamps:
        for segment in data["segments"]:
            segment.pop("words")
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _subtitles(transcript: Transcript, format: str, word_timestamps: bool) -> str:
    cues = (
        [(w.start, w.end, w.text.strip()) for w in transcript.words]
        if word_timestamps
        else [(s.start, s.end, s.text.strip()) for s in transcript.segments]
    )
    separator = "," if format == "srt" else "."
    blocks = [
        f"{index}\n{_clock(start, separator)} --> {_clock(end, separator)}\n{text}\n"
        if format == "srt"
        else f"{_clock(start, separator)} --> {_clock(end, separator)}\n{text}\n"
        for index, (start, end, text) in enumerate(cues, 1)
    ]
    header = "WEBVTT\n\n" if format == "vtt" else ""
    return header + "\n".join(blocks)


def _clock(seconds: float, separator: str) -> str:
    millis = round(max(0.0, seconds) * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"
