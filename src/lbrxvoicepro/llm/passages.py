"""Passages analysed for checking an answer: their sentences, what each passage is about,
which sentence and clause best answer the question, and the names they give whole.

A passage's heading and the subject of its first sentence say what it is about; its later
sentences often name that only by "it", "na niej" or "uczelnia". So a question's words found
there count for every sentence of the passage, and the sentence that adds what the question
asks wins. A later clause of a sentence ("…, a w soboty od 10:00 do 14:00") leaves out its
verb as well as its subject, so the first clause's words all count for it.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

from rapidfuzz.distance import Levenshtein, Prefix

from lbrxvoicepro.kb.analyzer import Analyzer
from lbrxvoicepro.kb.retriever import Hit
from lbrxvoicepro.text.sentences import split_sentences

NUMBER = re.compile(r"\d+")
_ADDRESS = re.compile(r"\S+@\S+|https?://\S+|www\.\S+")
"""E-mail and web addresses: their parts ("bratek" in zamowienia@bratek.pl) are not words a
sentence is about."""
WORD = re.compile(r"\w+")
_TOKEN = re.compile(r"\w+|[^\w\s]")
"""Words and punctuation marks: a name ends at a full stop or a comma."""
_POLISH_LETTERS = set("ąćęłńóśźż")
_ENGLISH_WORDS = {"the", "what", "who", "when", "where", "which", "how", "is", "are", "do", "does"}
_CLAUSE_BREAK = re.compile(
    r"[,;]\s+|\s[–—-]\s"
    r"|\s(?:and|but|or|i|a|oraz|ale|lub)\s(?=(?:from|on|at|in|until|od|do|w|we|po)\s)"
)
"""Where a sentence's clauses meet: a comma, a dash between spaces (times such as
9:00–18:00 hold none, so stay whole), or a conjunction before a preposition ("8 am to 8 pm
on weekdays and from 10 am to 4 pm on Saturdays"; not "between 9 and 5")."""
TOPIC_WEIGHT = 0.9
"""What a question's word counts for when a sentence takes it from its passage's topic
rather than saying it: nearly full, so the sentence that adds what is asked wins, and a
little less, so that between two sentences that answer alike the one that says it wins."""


@dataclass(frozen=True)
class Sentence:
    text: str
    source: int
    terms: frozenset[str]


class Passages:
    """The question and its passages, analysed once per answer."""

    def __init__(self, analyzer: Analyzer, question: str, hits: Sequence[Hit]) -> None:
        self.analyzer = analyzer
        self.question_terms = set(analyzer.terms(question))
        self.passages = [hit.chunk.text for hit in hits]
        self.headings = [hit.chunk.location.removeprefix("§ ") for hit in hits]
        self.terms = [set(analyzer.terms(p)) for p in self.passages]
        self.numbers = [set(NUMBER.findall(p)) for p in self.passages]
        self.number_pairs = [number_pairs(p) for p in self.passages]
        self.name_runs = [_name_runs(analyzer, p) for p in self.passages]
        self._asked: dict[frozenset[str], frozenset[str]] = {}
        lowered = question.lower()
        self.polish = bool(_POLISH_LETTERS & set(lowered)) or not (
            _ENGLISH_WORDS & set(WORD.findall(lowered))
        )

    def own_terms(self, text: str) -> set[str]:
        """The words of ``text`` that are neither the question's nor numbers (numbers are
        facts, checked on their own)."""
        return {t for t in self.analyzer.terms(text) if not t.isdigit()} - self.question_terms

    @cached_property
    def sentences(self) -> list[Sentence]:
        """The passages' sentences, headings left out (a heading names a topic, it does not
        answer)."""
        return [
            Sentence(text, source, frozenset(self.analyzer.terms(_ADDRESS.sub(" ", text))))
            for source, passage in enumerate(self.passages)
            for text in split_sentences(passage)
            if text.rstrip(".") != self.headings[source]
        ]

    @cached_property
    def topics(self) -> list[set[str]]:
        """What each passage is about: its heading's words and its first sentence's subject."""
        firsts: dict[int, str] = {}
        for sentence in self.sentences:
            firsts.setdefault(sentence.source, sentence.text)
        return [
            set(self.analyzer.terms(heading)) | self._subject(firsts.get(source, ""))
            for source, heading in enumerate(self.headings)
        ]

    def _subject(self, sentence: str) -> set[str]:
        """The sentence's first word that is not a function word, with the capitalised words
        that follow it ("the library", "Akademię Krakowską", "Rynek Główny"): what a sentence
        starts with is what it is about, in Polish as in English."""
        subject: list[str] = []
        for word in WORD.findall(sentence):
            terms = self.analyzer.terms(word)
            if subject and not (terms and word[0].isupper()):
                break
            subject += terms
        return set(subject)

    def asked(self, terms: Iterable[str]) -> frozenset[str]:
        """The question's words that ``terms`` hold, inflected alike ("akademii" and
        "akademię", "stoi" and "stoją", "środku" and "pośrodku"); each set of terms is
        matched once (a passage's words are asked for each of its sentences)."""
        key = frozenset(terms)
        if key not in self._asked:
            self._asked[key] = frozenset(
                q for q in self.question_terms if q in key or any(_alike(q, t) for t in key)
            )
        return self._asked[key]

    @cached_property
    def _weights(self) -> dict[str, float]:
        """The question's words by rarity among the passages' sentences."""
        found = Counter(term for s in self.sentences for term in self.asked(s.terms))
        return {term: math.log(1 + len(self.sentences) / n) for term, n in found.items()}

    def _match(self, own: Iterable[str], topic: Iterable[str], nearby: Iterable[str]) -> float:
        """How much of the question a sentence or clause answers: its own words and its
        topic's in full, the rest of its passage's for half."""
        said = self.asked(own)
        implied = self.asked(topic) - said
        near = self.asked(nearby) - said - implied
        weight = self._weights
        return (
            sum(weight.get(t, 0.0) for t in said)
            + TOPIC_WEIGHT * sum(weight.get(t, 0.0) for t in implied)
            + 0.5 * sum(weight.get(t, 0.0) for t in near)
        )

    @cached_property
    def best_sentence(self) -> Sentence | None:
        """The passage sentence that answers most of the question (by rarity) in the context
        of its passage, and adds words of its own; passages ranked higher win ties. The
        model's answer has no say: a wrong answer would pull the choice to the sentence it
        was taken from."""
        best: tuple[float, Sentence] | None = None
        for sentence in self.sentences:
            if not sentence.terms - self.question_terms:
                continue
            score = self._match(
                sentence.terms, self.topics[sentence.source], self.terms[sentence.source]
            )
            score -= 0.01 * sentence.source
            if score > 0 and (best is None or score > best[0]):
                best = (score, sentence)
        return best[1] if best is not None else None

    def best_clause(self, sentence: Sentence) -> str:
        """The clause of ``sentence`` that answers most of the question, its first clause
        being the others' topic."""
        clauses = [c for c in _CLAUSE_BREAK.split(sentence.text) if c.strip()]
        if len(clauses) < 2:
            return sentence.text
        topic = set(self.analyzer.terms(clauses[0]))
        scores = [self._match(self.analyzer.terms(c), topic, ()) for c in clauses]
        return clauses[scores.index(max(scores))]

    def partial_names(self, source: int, facts: list[tuple[str, str]], text: str) -> list[str]:
        """Names of ``text`` that its passage gives only as part of a longer name that
        ``text`` does not give whole ("Bratkowska" for "Maria Bratkowska")."""
        said = set(self.analyzer.terms(text))
        runs = self.name_runs[source]
        partial = []
        for word, key in facts:
            if word[0].isdigit() or key in runs.alone:
                continue
            around = [run for run in runs.longer if key in run]
            if around and all(run - said for run in around):
                partial.append(f"{word} (of {' '.join(runs.spelled[around[0]])})")
        return partial


@dataclass(frozen=True)
class _NameRuns:
    """Capitalised words standing together in a passage ("Maria Bratkowska")."""

    longer: list[frozenset[str]]
    """The stems of each run of two or more names."""
    alone: set[str]
    """Stems the passage also holds outside any such run."""
    spelled: dict[frozenset[str], tuple[str, ...]]


def _name_runs(analyzer: Analyzer, passage: str) -> _NameRuns:
    longer: list[frozenset[str]] = []
    spelled: dict[frozenset[str], tuple[str, ...]] = {}
    in_runs: Counter[str] = Counter()
    run: list[tuple[str, str]] = []
    words = [*_TOKEN.findall(_ADDRESS.sub(" ", passage)), ""]
    for word in words:
        terms = analyzer.terms(word) if word[:1].isupper() and word.isalpha() else []
        if terms:
            run.append((word, terms[0]))
            continue
        if len(run) > 1:
            stems = frozenset(stem for _, stem in run)
            longer.append(stems)
            spelled[stems] = tuple(w for w, _ in run)
            in_runs.update(stem for _, stem in run)
        run = []
    every = Counter(t for w in words if w for t in analyzer.terms(w)[:1])
    alone = {stem for stem, n in every.items() if n > in_runs[stem]}
    return _NameRuns(longer, alone, spelled)


def _alike(a: str, b: str) -> bool:
    """Two stems of one word that the stemmer left apart: one letter between them
    ("stoi", "stoj"), the same first five letters or the whole shorter one ("zalozon",
    "zalozyl"; "open", "opening"), or the shorter as the longer one's end ("srodk",
    "posrodk")."""
    short, long = sorted((a, b), key=len)
    if len(short) < 4:
        return False
    return (
        Prefix.similarity(a, b) >= min(5, len(short))
        or (len(short) >= 5 and long.endswith(short))
        or Levenshtein.distance(a, b) <= 1
    )


def numbers(text: str) -> set[str]:
    """The numbers of ``text``, whole hours' ``00`` left out."""
    return set(_numbers_in_order(text))


def number_pairs(text: str) -> set[tuple[str, str]]:
    """Each number with the one after it (whole hours' ``00`` left out): a range or a pair
    that an answer gives ("8 am to 4 pm") must stand so in its passage, not be made of two
    numbers from different places ("8 am to 8 pm … 10 am to 4 pm")."""
    return set(itertools.pairwise(_numbers_in_order(text)))


def _numbers_in_order(text: str) -> list[str]:
    return [n for n in NUMBER.findall(text) if n.strip("0") or len(n) == 1]
