"""Text made speakable for a language: the one entry point synthesizers call."""

from __future__ import annotations

import unicodedata

from lbrxvoicepro.text.english import normalize_english
from lbrxvoicepro.text.polish import normalize_polish


def normalize_for_speech(text: str, language: str) -> str:
    """Spell out numbers and abbreviations; drop emoji and other unspeakable symbols."""
    text = "".join(
        char if unicodedata.category(char)[0] in "LNPZ" or char in "$€%°§&+=#" else " "
        for char in unicodedata.normalize("NFC", text)
    )
    if language.startswith("pl"):
        return normalize_polish(text)
    if language.startswith("en"):
        return normalize_english(text)
    return " ".join(text.split())
