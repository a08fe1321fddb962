"""Words Whisper writes that do not exist, put right from a word list of the language.

Whisper base writes many Polish words that no one uses: "szawę" for "szafę", "trzelec" for
"strzelec", "automatizacji". On real Polish speech (bench/asr.py) about a third of its word
errors are such non-words. A word that wordfreq's list for the language (Wikipedia, subtitles,
news, books and web text) does not know is replaced with the known word that sounds closest
(Polish spelling pairs that sound alike, such as "w"/"f", "rz"/"ż" or "ó"/"u", count as the
same), then is fewest edits away (at most two; three for words of eight letters or more),
then is most common; every word the list knows stays as Whisper wrote it. A word the list
does not know, or knows as rare (used less than once per 10 million words), that makes a word
the list knows with the word next to it is joined to it first: Whisper splits Polish compounds
and prefixed words into a real word and a fragment ("nabo żeństw" becomes "nabożeństw", "rako
twórcze" becomes "rakotwórcze"); a joined word keeps the time span of both.
"""

from __future__ import annotations

import functools
import itertools
import re
import threading
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

COMMON_FREQUENCY = 1e-7
"""A replacement must be used at least once per 10 million words (Zipf 2; the list holds words
down to once per 100 million, and every word in it is kept as written, though a rarer one may
be joined to its neighbour)."""
MAX_EDITS = 2
LONG_WORD = 8
"""Words this long may be three edits away."""
SOUND_ALIKE = (
    ("rz", "ż"), ("ch", "h"), ("ó", "u"), ("dź", "ć"), ("dż", "cz"), ("w", "f"), ("b", "p"),
    ("d", "t"), ("g", "k"), ("z", "s"), ("ż", "sz"), ("ź", "ś"), ("ę", "e"), ("ą", "o"),
    ("ł", "l"), ("y", "i"),
)  # fmt: skip
"""Polish spellings that sound alike or nearly so (voiced and voiceless pairs among them),
applied in this order."""
_WORD = re.compile(r"[^\W\d_]+")
_BARE = re.compile(r"(\s*)([^\W\d_]+)")
"""A piece that is one word and nothing else (no punctuation), after its leading space."""
_ONE_WORD = re.compile(r"\s*([^\W\d_]+)[^\w\s]*")
"""A piece that is one word, punctuation after it allowed."""
_PIECES = re.compile(r"\s*\S+")
_lock = threading.Lock()
_started: set[str] = set()


class Speller:
    """Thread-safe; built once per language (about half a second) by ``speller``."""

    def __init__(self, language: str) -> None:
        from wordfreq import get_frequency_dict

        frequencies = get_frequency_dict(language, wordlist="best")  # most common first
        self._frequency = frequencies
        by_length: dict[int, list[str]] = defaultdict(list)
        common = itertools.takewhile(lambda w: frequencies[w] >= COMMON_FREQUENCY, frequencies)
        for word in common:
            if word.isalpha():
                by_length[len(word)].append(word)
        self._by_length = {
            length: (
                np.array(words, dtype=object),
                np.array([_letters(w) for w in words], np.uint64),
            )
            for length, words in by_length.items()
        }
        """Known words of each length, with the letters each holds."""

    def text(self, text: str) -> str:
        """``text`` with its unknown words joined or replaced, case and punctuation kept."""
        pieces = _PIECES.findall(text)
        trailing = text[len("".join(pieces)) :]
        return "".join(spelled for _, spelled in self.pieces(pieces)) + trailing

    def pieces(self, pieces: Sequence[str]) -> list[tuple[int, str]]:
        """Whisper's words as it writes them (each with its leading space and punctuation),
        spelled: each with the number of pieces it stands for (2 where an unknown or rare word
        and the one beside it were joined into a known word)."""
        spelled: list[tuple[int, str]] = []
        index = 0
        while index < len(pieces):
            piece = pieces[index]
            word = _ONE_WORD.fullmatch(piece)
            if word and self._frequency.get(word[1].lower(), 0.0) < COMMON_FREQUENCY:
                after = pieces[index + 1] if index + 1 < len(pieces) else ""
                if (joined := self._joined(piece, after)) is not None:
                    spelled.append((2, joined))
                    index += 2
                    continue
                before = spelled[-1][1] if spelled and spelled[-1][0] == 1 else ""
                if (joined := self._joined(before, piece)) is not None:
                    spelled[-1] = (2, joined)
                    index += 1
                    continue
            spelled.append((1, self._replaced(piece)))
            index += 1
        return spelled

    def _joined(self, first: str, second: str) -> str | None:
        """``first`` and ``second`` as one word, where the list knows it."""
        head, tail = _BARE.fullmatch(first), _WORD.match(second.lstrip())
        if head is None or tail is None or min(len(head[2]), len(tail[0])) < 2:
            return None
        word = (head[2] + tail[0]).lower()
        if word not in self._frequency:
            return None
        return head[1] + _cased(word, head[2]) + second.lstrip()[len(tail[0]) :]

    def _replaced(self, piece: str) -> str:
        return _WORD.sub(lambda match: _cased(self.word(match[0].lower()), match[0]), piece)

    @functools.lru_cache(maxsize=4096)  # noqa: B019 (one instance per language, kept for good)
    def word(self, word: str) -> str:
        """Lower-case ``word`` if the list knows it, else the known word that sounds closest,
        then is fewest edits away, then is most common; ``word`` when none is near enough."""
        if word in self._frequency:
            return word
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        edits_allowed = MAX_EDITS + (len(word) >= LONG_WORD)
        heard, letters = _sound(word), np.uint64(_letters(word))
        best: tuple[tuple[int, int, float], str] | None = None
        for length in range(len(word) - edits_allowed, len(word) + edits_allowed + 1):
            if length not in self._by_length:
                continue
            words, held = self._by_length[length]
            # Each letter one word has and the other lacks costs an edit: a cheap, exact
            # filter that leaves rapidfuzz a few percent of the words.
            near = (np.bitwise_count(held & ~letters) <= edits_allowed) & (
                np.bitwise_count(letters & ~held) <= edits_allowed
            )
            for found, edits, _ in process.extract(
                word,
                words[near].tolist(),
                scorer=Levenshtein.distance,
                score_cutoff=edits_allowed,
                limit=None,
            ):
                rank = (
                    Levenshtein.distance(heard, _sound(found)),
                    int(edits),
                    -self._frequency[found],
                )
                if best is None or rank < best[0]:
                    best = (rank, found)
        return word if best is None else best[1]


def load_in_background(language: str) -> None:
    """Build the language's speller in a thread of its own (once per process), so that a
    transcript does not wait for it: the word list loads while Whisper's model does."""
    with _lock:
        if language in _started:
            return
        _started.add(language)
    threading.Thread(target=speller, args=(language,), name="lbrx-speller", daemon=True).start()


def speller(language: str) -> Speller | None:
    """The language's speller, or None where wordfreq has no list for it."""
    with _lock:
        return _speller(language)


@functools.cache
def _speller(language: str) -> Speller | None:
    from wordfreq import available_languages

    return Speller(language) if language in available_languages("best") else None


def _letters(word: str) -> int:
    """The letters ``word`` holds, as bits (letters that share a bit only weaken the filter)."""
    bits = 0
    for char in word:
        bits |= 1 << (ord(char) % 64)
    return bits


def _sound(word: str) -> str:
    for spelled, sounded in SOUND_ALIKE:
        word = word.replace(spelled, sounded)
    return word


def _cased(word: str, like: str) -> str:
    if len(like) > 1 and like.isupper():
        return word.upper()
    return word[:1].upper() + word[1:] if like[:1].isupper() else word
