"""English text normalization basics: numbers, money, percentages, times, abbreviations."""

from __future__ import annotations

import re

from num2words import num2words

ABBREVIATIONS = {
    "dr.": "Doctor",
    "mr.": "Mister",
    "mrs.": "Missus",
    "ms.": "Miss",
    "prof.": "Professor",
    "st.": "Saint",
    "e.g.": "for example",
    "i.e.": "that is",
    "etc.": "et cetera",
    "vs.": "versus",
    "approx.": "approximately",
    "no.": "number",
}
_ABBREVIATION = re.compile(
    r"(?<![\w.])(?:" + "|".join(re.escape(a) for a in ABBREVIATIONS) + r")", re.IGNORECASE
)


def _words(number: str, to: str = "cardinal") -> str:
    value: float | int = float(number) if "." in number else int(number)
    return str(num2words(value, lang="en", to=to)).replace("-", " ").replace(",", "")


def normalize_english(text: str) -> str:
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    text = re.sub(
        r"\$(\d+)(?:\.(\d{2}))?",
        lambda m: (
            f"{_words(m[1])} dollars"
            + (f" {_words(str(int(m[2])))} cents" if m[2] and int(m[2]) else "")
        ),
        text,
    )
    text = re.sub(r"(\d+(?:\.\d+)?)\s?%", lambda m: f"{_words(m[1])} percent", text)
    text = re.sub(
        r"\b(\d{1,2}):(\d{2})\b",
        lambda m: _words(m[1]) + ("" if m[2] == "00" else " " + _words(str(int(m[2])))),
        text,
    )
    text = re.sub(r"\b(\d+)(?:st|nd|rd|th)\b", lambda m: _words(m[1], "ordinal"), text)
    text = re.sub(
        r"(?<![\w.])-?\d+(?:\.\d+)?",
        lambda m: (
            _words(m[0].lstrip("-")) if not m[0].startswith("-") else "minus " + _words(m[0][1:])
        ),
        text,
    )
    text = _ABBREVIATION.sub(lambda m: ABBREVIATIONS[m[0].lower()], text)
    text = text.replace("&", " and ").replace("+", " plus ")
    return re.sub(r"\s+", " ", text).strip()
