"""Words to search terms for BM25: no model, Polish-aware.

Diacritics are folded (``ł`` included, which Unicode does not decompose) and then the Snowball
Polish stemmer runs on the folded word, so "Krakowie", "Krakowa" and "Kraków" all become
``krakow``; folding first matters, since Snowball on the accented "kraków" gives ``krak``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

_WORD = re.compile(r"\w+", re.UNICODE)
_FOLD = str.maketrans({"ł": "l", "Ł": "L", "ß": "ss", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D"})

STOP_WORDS = frozenset(
    # Polish function words and the commonest English ones, as they look after folding.
    [
        "a",
        "about",
        "aby",
        "albo",
        "ale",
        "am",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "between",
        "bo",
        "by",
        "byc",
        "byl",
        "byla",
        "bylo",
        "byly",
        "can",
        "co",
        "could",
        "czy",
        "czym",
        "did",
        "dla",
        "do",
        "does",
        "for",
        "from",
        "gdy",
        "gdzie",
        "had",
        "has",
        "have",
        "how",
        "i",
        "ich",
        "ile",
        "in",
        "into",
        "is",
        "it",
        "its",
        "jak",
        "jaka",
        "jaki",
        "jakich",
        "jakie",
        "jakiego",
        "jakiej",
        "jakim",
        "jakimi",
        "jako",
        "je",
        "jego",
        "jej",
        "jest",
        "jestem",
        "jeszcze",
        "juz",
        "kiedy",
        "kogo",
        "komu",
        "kto",
        "ktora",
        "ktore",
        "ktorego",
        "ktorej",
        "ktory",
        "ktorych",
        "ktorym",
        "ktorymi",
        "ktorzy",
        "lub",
        "ma",
        "many",
        "may",
        "mi",
        "mnie",
        "much",
        "na",
        "nad",
        "nie",
        "niz",
        "o",
        "od",
        "of",
        "on",
        "ona",
        "one",
        "oni",
        "or",
        "po",
        "pod",
        "przez",
        "przy",
        "sa",
        "should",
        "sie",
        "so",
        "ta",
        "tak",
        "tam",
        "te",
        "tego",
        "tej",
        "ten",
        "that",
        "the",
        "there",
        "this",
        "to",
        "tu",
        "ty",
        "tym",
        "u",
        "until",
        "w",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "wiec",
        "will",
        "with",
        "would",
        "you",
        "your",
        "z",
        "za",
        "ze",
    ]
)


def fold(text: str) -> str:
    """Lower case, diacritics removed: what both documents and queries are matched on."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_MOBILE_E = ("ek", "ec")
"""Endings whose "e" drops when the word inflects (zamek, zamku; koniec, końca): both forms
are indexed."""


class Analyzer:
    """Splits text into folded, stemmed terms; stop words and lone characters are dropped."""

    def __init__(self, language: str = "polish") -> None:
        if language not in snowballstemmer.algorithms():
            raise ValueError(f"no Snowball stemmer for {language!r}")
        self.language = language
        stemmer = snowballstemmer.stemmer(language)
        self._stem = lru_cache(maxsize=200_000)(stemmer.stemWord)

    def terms(self, text: str) -> list[str]:
        terms = []
        for word in _WORD.findall(fold(text)):
            if len(word) > 1 and word not in STOP_WORDS:
                stem = self._stem(word)
                terms.append(stem)
                if self.language == "polish" and len(stem) >= 5 and stem.endswith(_MOBILE_E):
                    terms.append(stem[:-2] + stem[-1])
        return terms
