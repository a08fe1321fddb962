"""Render a transcript as plain text, JSON, SubRip or WebVTT."""

from __future__ import annotations

import dataclasses
import json

from lbrxvoicepro.types import Segment, Transcript

FORMATS = ("txt", "json", "srt", "vtt")


def render(transcript: Transcript, format: str, word_timestamps: bool = False) -> str:
    if format == "json":
        return to_json(transcript, word_timestamps)
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    live = LiveRender(format, word_timestamps)
    return live.start() + "".join(live.segment(s) for s in transcript.segments) + live.end()


class LiveRender:
    """Plain text, SubRip or WebVTT written segment by segment as Whisper decodes them; the
    pieces joined are exactly ``render`` of the finished transcript."""

    def __init__(self, format: str, word_timestamps: bool = False) -> None:
        if format not in ("txt", "srt", "vtt"):
            raise ValueError(f"{format!r} cannot be written as it is decoded")
        self.format = format
        self.word_timestamps = word_timestamps
        self.pieces = 0

    def start(self) -> str:
        return "WEBVTT\n\n" if self.format == "vtt" else ""

    def segment(self, segment: Segment) -> str:
        if self.format == "txt":
            self.pieces += 1
            return (" " if self.pieces > 1 else "") + segment.text.strip()
        cues = (
            [(w.start, w.end, w.text.strip()) for w in segment.words]
            if self.word_timestamps
            else [(segment.start, segment.end, segment.text.strip())]
        )
        separator = "," if self.format == "srt" else "."
        text = ""
        for start, end, words in cues:
            self.pieces += 1
            number = f"{self.pieces}\n" if self.format == "srt" else ""
            text += "\n" if self.pieces > 1 else ""
            text += f"{number}{_clock(start, separator)} --> {_clock(end, separator)}\n{words}\n"
        return text

    def end(self) -> str:
        return "\n" if self.format == "txt" else ""


def to_json(transcript: Transcript, word_timestamps: bool = True) -> str:
    data = dataclasses.asdict(transcript)
    if not word_timestamps:
        for segment in data["segments"]:
            segment.pop("words")
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _clock(seconds: float, separator: str) -> str:
    millis = round(max(0.0, seconds) * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"
