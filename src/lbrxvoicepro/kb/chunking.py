"""Sections to retrieval chunks: whole sentences, bounded length, overlapping neighbours.

A chunk never cuts a sentence (unless one sentence alone is over the limit), and each chunk
repeats the last sentence of the one before it, so a fact that straddles a boundary is still
found whole in one of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from lbrxvoicepro.kb.documents import Section
from lbrxvoicepro.text.sentences import split_sentences


@dataclass(frozen=True)
class Chunk:
    text: str
    location: str


def chunk_sections(
    sections: Iterable[Section], max_chars: int = 600, overlap_chars: int = 150
) -> Iterator[Chunk]:
    """Chunks of at most ``max_chars`` from each section, in order."""
    for section in sections:
        sentences = [s.strip() for s in split_sentences(section.text, max_chars) if s.strip()]
        current: list[str] = []
        for sentence in sentences:
            if current and _length(current) + 1 + len(sentence) > max_chars:
                yield Chunk(" ".join(current), section.location)
                current = _tail(current, overlap_chars)
                if current and _length(current) + 1 + len(sentence) > max_chars:
                    current = []
            current.append(sentence)
        if current:
            yield Chunk(" ".join(current), section.location)


def _length(sentences: list[str]) -> int:
    return sum(len(s) for s in sentences) + len(sentences) - 1


def _tail(sentences: list[str], overlap_chars: int) -> list[str]:
    """The last sentences of a chunk that fit in ``overlap_chars``."""
    kept: list[str] = []
    for sentence in reversed(sentences):
        if _length([sentence, *kept]) > overlap_chars:
            break
        kept.insert(0, sentence)
    return kept
