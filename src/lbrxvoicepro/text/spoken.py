"""The spoken form of a transcript, with word timings carried over from the written one.

Whisper writes "14:30", "24.11.2026" and "ul."; a TTS model learns from what was said
("czternasta trzydzieści"). The spoken text comes from the same normalizer the synthesizers
use; its tokens are then matched to the timed words they came from: a token equal to a word
takes that word's times, and the tokens that replace a run of words ("14:30" → "czternasta
trzydzieści") share the time span of the word they came from (or of the run, where they cannot
be told apart), in proportion to their length.
"""

from __future__ import annotations

from collections.abc import Sequence
from difflib import SequenceMatcher

from lbrxvoicepro.text.normalize import normalize_for_speech
from lbrxvoicepro.text.scoring import normalize_for_scoring
from lbrxvoicepro.types import Word


def spoken_form(text: str, words: Sequence[Word], language: str) -> tuple[str, tuple[Word, ...]]:
    """(spoken text, its tokens timed from ``words``).

    ``words`` may spell a different text than ``text`` (prompted reading keeps the prompt as the
    text and the recogniser's timings): matching goes by the scoring form of each token, so
    equal words line up wherever the two agree.
    """
    spoken = normalize_for_speech(text, language)
    tokens = spoken.split()
    if not words or not tokens:
        return spoken, ()
    timed = [w for w in words if w.text.strip()]
    keys = [_key(w.text) for w in timed]
    matcher = SequenceMatcher(None, keys, [_key(t) for t in tokens], autojunk=False)
    result: list[Word] = []
    for i1, i2, j1, j2 in _groups(matcher.get_opcodes(), len(timed)):
        if j1 == j2:
            continue
        result.extend(_retime(tokens[j1:j2], timed[i1:i2], language))
    return spoken, tuple(result)


def _retime(tokens: list[str], source: list[Word], language: str) -> list[Word]:
    """A replaced run: word by word where each word's own spoken form has as many tokens as it
    took here (context may change a form, "o 14:30" → "czternastej", not its length), else
    the run's span shared."""
    counts = [len(normalize_for_speech(w.text, language).split()) for w in source]
    if len(source) == 1 or sum(counts) != len(tokens):
        return _spread(tokens, source)
    result, position = [], 0
    for word, count in zip(source, counts, strict=True):
        if count:
            result.extend(_spread(tokens[position : position + count], [word]))
        position += count
    return result


def _key(token: str) -> str:
    return normalize_for_scoring(token) or token.strip()


def _groups(
    opcodes: Sequence[tuple[str, int, int, int, int]], word_count: int
) -> list[tuple[int, int, int, int]]:
    """Word range → token range pairs, one per equal word, one per replaced run; tokens with no
    word of their own (an insertion) join the word before them (or after, at the start)."""
    groups: list[list[int]] = []
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            groups.extend([i1 + k, i1 + k + 1, j1 + k, j1 + k + 1] for k in range(i2 - i1))
        elif tag == "insert" and groups:
            groups[-1][3] = j2
        elif tag == "insert":
            groups.append([0, min(1, word_count), j1, j2])
        else:
            groups.append([i1, i2, j1, j2])
    merged: list[list[int]] = []
    for group in groups:
        if merged and group[0] < merged[-1][1]:
            merged[-1][1], merged[-1][3] = max(merged[-1][1], group[1]), group[3]
        else:
            merged.append(group)
    return [(g[0], g[1], g[2], g[3]) for g in merged]


def _spread(tokens: list[str], source: list[Word]) -> list[Word]:
    """Tokens over the time span of the words they came from, in proportion to their length."""
    if len(tokens) == 1 and len(source) == 1:
        return [Word(tokens[0], source[0].start, source[0].end, source[0].probability)]
    start, end = source[0].start, max(w.end for w in source)
    probability = min(w.probability for w in source)
    total = sum(len(t) for t in tokens)
    spread, done = [], 0
    for token in tokens:
        begin = start + (end - start) * done / total
        done += len(token)
        spread.append(Word(token, begin, start + (end - start) * done / total, probability))
    return spread
