"""Guards against Whisper's known failure modes.

Whisper invents text on silence and noise, loops on a phrase, and sometimes answers in the wrong
script (Cyrillic for Polish). The VAD gate keeps most non-speech away from the decoder; these
checks catch what gets through, using the confidence signals Whisper reports per segment.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from lbrxvoicepro.config import AsrSettings
from lbrxvoicepro.types import Segment, Word

SCRIPTS = {
    "LATIN": {
        "pl",
        "en",
        "de",
        "fr",
        "es",
        "it",
        "pt",
        "nl",
        "cs",
        "sk",
        "sl",
        "hr",
        "ro",
        "hu",
        "fi",
        "sv",
        "da",
        "no",
        "nn",
        "et",
        "lv",
        "lt",
        "tr",
        "id",
        "ms",
        "vi",
        "ca",
        "eu",
        "gl",
        "is",
        "af",
        "sw",
        "tl",
        "cy",
        "ga",
        "mt",
        "sq",
        "az",
        "uz",
        "bs",
        "lb",
        "br",
    },
    "CYRILLIC": {"ru", "uk", "be", "bg", "mk", "sr", "kk", "mn", "tt", "ba", "tg"},
    "GREEK": {"el"},
    "ARABIC": {"ar", "fa", "ur", "ps", "sd"},
    "HEBREW": {"he", "yi"},
}
LANGUAGE_SCRIPT = {lang: script for script, langs in SCRIPTS.items() for lang in langs}
_TOKEN = re.compile(r"\w+", re.UNICODE)


def guard_segments(
    segments: list[Segment], language: str, settings: AsrSettings
) -> tuple[list[Segment], list[str]]:
    """Segments worth keeping, and one line per removed or repaired segment saying why."""
    kept: list[Segment] = []
    notes: list[str] = []
    for segment in segments:
        reason = rejection_reason(segment, language, settings)
        if reason:
            notes.append(f"{segment.start:.2f}-{segment.end:.2f}s dropped: {reason}")
            continue
        repaired = collapse_loops(segment, settings.max_repeats)
        if repaired is not segment:
            notes.append(f"{segment.start:.2f}-{segment.end:.2f}s: repeated phrase collapsed")
        if repaired.text.strip():
            kept.append(repaired)
    return kept, notes


def rejection_reason(segment: Segment, language: str, settings: AsrSettings) -> str | None:
    if (
        segment.no_speech_prob > settings.no_speech_threshold
        and segment.avg_logprob < settings.log_prob_threshold
    ):
        return f"no speech (no_speech_prob {segment.no_speech_prob:.2f})"
    if segment.compression_ratio > settings.compression_ratio_threshold:
        return f"repetitive text (compression ratio {segment.compression_ratio:.1f})"
    share = script_share(segment.text, language)
    if share < settings.min_script_ratio:
        return f"wrong script for {language!r} ({share:.0%} of letters in its script)"
    return None


def script_share(text: str, language: str) -> float:
    """Share of letters written in the language's script (1.0 where the script is unknown)."""
    expected = LANGUAGE_SCRIPT.get(language)
    letters = [char for char in text if char.isalpha()]
    if expected is None or not letters:
        return 1.0
    matching = sum(1 for char in letters if unicodedata.name(char, "").startswith(expected))
    return matching / len(letters)


def collapse_loops(segment: Segment, max_repeats: int) -> Segment:
    """Keep one copy of any 1-6 word phrase repeated more than ``max_repeats`` times in a row."""
    units: list[str] = [w.text for w in segment.words] or segment.text.split()
    keys = [" ".join(_TOKEN.findall(unit.lower())) for unit in units]
    keep = _loop_free_indices(keys, max_repeats)
    if len(keep) == len(units):
        return segment
    if segment.words:
        words: tuple[Word, ...] = tuple(segment.words[i] for i in keep)
        text = "".join(w.text for w in words)
        return replace(segment, words=words, text=text)
    return replace(segment, text=" ".join(units[i] for i in keep))


def _loop_free_indices(keys: list[str], max_repeats: int) -> list[int]:
    keep: list[int] = []
    position = 0
    while position < len(keys):
        loop = _loop_at(keys, position, max_repeats)
        if loop is None:
            keep.append(position)
            position += 1
            continue
        size, repeats = loop
        keep.extend(range(position, position + size))
        position += size * repeats
    return keep


def _loop_at(keys: list[str], position: int, max_repeats: int) -> tuple[int, int] | None:
    """(phrase length, repeats) of a loop starting at ``position``, if there is one."""
    for size in range(1, 7):
        unit = keys[position : position + size]
        if len(unit) < size or not all(unit):
            return None
        repeats = 1
        while keys[position + repeats * size : position + (repeats + 1) * size] == unit:
            repeats += 1
        if repeats > max_repeats:
            return size, repeats
    return None
