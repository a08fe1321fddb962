"""Sentence splitting that does not break on abbreviations, initials or decimals.

Speech is synthesized sentence by sentence so the first one can play while the rest is made;
overlong sentences are cut at commas, then spaces, so no single piece delays the stream.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

NO_BREAK_AFTER = {
    "np",
    "ul",
    "al",
    "pl",
    "prof",
    "dr",
    "mgr",
    "inż",
    "tzw",
    "m.in",
    "tj",
    "tzn",
    "ok",
    "godz",
    "nr",
    "tel",
    "zob",
    "św",
    "gen",
    "ks",
    "płk",
    "ws",
    "wg",
    "mr",
    "mrs",
    "ms",
    "st",
    "vs",
    "e.g",
    "i.e",
    "no",
    "fig",
    "approx",
    "r",
    "w",
    "tys",
    "mln",
    "mld",
    "sek",
    "min",
    "gr",
}
_BOUNDARY = re.compile(r"[.!?…]+[\"”»)\]]*(?:\s+|$)|\n\s*\n")
_LAST_TOKEN = re.compile(r"([\w.]+)[.!?…]*[\"”»)\]]*\s*$")
MAX_CHARS = 400
SPOKEN_MAX_CHARS = 160
"""A streamed sentence that runs this long without a stop is spoken in pieces: the listener
would otherwise wait for the end of a "sentence" that a small model may never end."""
MIN_CLAUSE_CHARS = 12
"""A first clause shorter than this ("Tak,") is not worth a pause of its own."""
_CLAUSE_END = re.compile(r"[,;:](?=\s)|\s[–—-](?=\s)")


def split_sentences(text: str, max_chars: int = MAX_CHARS) -> Iterator[str]:
    """Sentences of ``text`` in order, lazily, none longer than ``max_chars``."""
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.end()
        if match.group(0).strip() and not _is_break(text, match.start(), end):
            continue
        yield from _pieces(text[start:end], max_chars)
        start = end
    yield from _pieces(text[start:], max_chars)


def _is_break(text: str, mark: int, after: int) -> bool:
    if text[mark] != ".":
        return True
    token = _LAST_TOKEN.search(text[max(0, mark - 40) : mark + 1])
    word = token.group(1).rstrip(".").lower() if token else ""
    if word in NO_BREAK_AFTER or (len(word) == 1 and word.isalpha()):
        return False
    following = text[after : after + 1]
    return not following or not following.islower()


def _pieces(sentence: str, max_chars: int) -> Iterator[str]:
    sentence = sentence.strip()
    while len(sentence) > max_chars:
        window = sentence[:max_chars]
        cut = max(window.rfind(", "), window.rfind("; "), window.rfind(" – "))
        if cut < max_chars // 3:
            cut = window.rfind(" ")
        if cut <= 0:
            cut = max_chars
        yield sentence[: cut + 1].strip()
        sentence = sentence[cut + 1 :].strip()
    if any(char.isalnum() for char in sentence):
        yield sentence


def lead_clause(
    sentence: str, min_chars: int = MIN_CLAUSE_CHARS, long_sentence: int = 48
) -> list[str]:
    """A long sentence cut after its first clause, so the first sound can start sooner."""
    if len(sentence) < long_sentence:
        return [sentence]
    cut = sentence.find(", ", min_chars)
    if cut < 0 or len(sentence) - cut < min_chars:
        return [sentence]
    return [sentence[: cut + 1], sentence[cut + 2 :]]


def speakable(
    text: str, started: bool, min_clause: int = MIN_CLAUSE_CHARS
) -> tuple[list[str], str]:
    """Pieces of a streamed answer ready to be spoken, and the text still being written.

    A sentence is ready once the next one has begun (a stop alone may be an abbreviation's);
    before the first sound, a first clause is ready at its comma, so speaking starts on it.
    """
    pieces = list(split_sentences(text, SPOKEN_MAX_CHARS))
    if not pieces:
        return [], text
    last = pieces[-1]
    ready, rest = pieces[:-1], text[text.rfind(last) :]
    if not started and not ready:
        clause = _CLAUSE_END.search(rest, min_clause)
        if clause and any(char.isalnum() for char in rest[: clause.start()]):
            ready, rest = [rest[: clause.end()].strip()], rest[clause.end() :].lstrip()
    return ready, rest
