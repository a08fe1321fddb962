"""Answers held to their passages: inline citations, and a quote where the model strays.

A small model answers fluently and often wrongly: a name from the wrong passage, an hour that
no passage holds. Each sentence of an answer from a knowledge base is checked here: its numbers
and names must appear in the passage it cites, most of its other words too, and the answer as a
whole must say something that the passage sentence which best answers the question says. An
answer that fails is replaced by that sentence, quoted and cited, so the user is never told a
fact that the sources do not hold.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from lbrxvoicepro.kb.analyzer import STOP_WORDS, Analyzer, fold
from lbrxvoicepro.kb.retriever import Hit
from lbrxvoicepro.text.sentences import split_sentences

_NUMBER = re.compile(r"\d+")
_ADDRESS = re.compile(r"\S+@\S+|https?://\S+|www\.\S+")
"""E-mail and web addresses: their parts ("bratek" in zamowienia@bratek.pl) are not words a
sentence is about."""
_WORD = re.compile(r"\w+")
CITATION = re.compile(r"\s*\[\d+(?:\s*[,-]\s*\d+)*\]")
"""``[1]``, ``[2, 3]``: written for the reader; taken out before an answer is checked or
spoken."""
_POLISH_LETTERS = set("ąćęłńóśźż")
_ENGLISH_WORDS = {"the", "what", "who", "when", "where", "which", "how", "is", "are", "do", "does"}
_OPENERS = {"you", "we", "they", "yes", "there", "this", "these", "those", "your", "our", "my"}
"""Words that start an answer with a capital without naming anything (Polish ones such as
"tak" and "nie" are stop words already)."""
QUOTE_FRAMES = {
    "pl": "Cytat ze źródła [{number}]: „{quote}”",
    "en": 'Quoting source [{number}]: "{quote}"',
}
"""How a quote is marked as one, by the question's language."""
_QUOTE_FRAME = re.compile(r"^(?:Cytat ze źródła|Quoting source) \[\d+\]: ")
MIN_SUPPORT = 0.5
"""The least share of a sentence's own words (those not in the question) that its passage
must hold."""


@dataclass(frozen=True)
class GroundedAnswer:
    text: str
    """What the user is told: the model's sentences with ``[n]`` after each, or a quote."""
    citations: list[int]
    """The sources cited, numbered from 1 as in the prompt."""
    quoted: bool
    """True when the model's answer was replaced by a quote from the best passage."""
    model_text: str
    reason: str = ""
    """Why the model's answer was not kept (empty when it was)."""


@dataclass(frozen=True)
class _Sentence:
    text: str
    source: int
    terms: frozenset[str]


class Grounder:
    """Checks answers against the passages they were written from."""

    def __init__(self, analyzer: Analyzer | None = None, min_support: float = MIN_SUPPORT) -> None:
        self.analyzer = analyzer or Analyzer()
        self.min_support = min_support

    def ground(self, question: str, answer: str, passages: Sequence[Hit]) -> GroundedAnswer:
        """The answer with a citation after each sentence, or the best passage sentence
        quoted when any sentence states what its passage does not."""
        if not passages:
            return GroundedAnswer(answer.strip(), [], False, answer)
        context = _Context(self.analyzer, question, passages)
        sentences = [s for s in split_sentences(CITATION.sub("", answer)) if s]
        best = context.best_sentence(context.own_terms(sentences[0]) if sentences else set())
        cited: list[int] = []
        pieces: list[str] = []
        for sentence in sentences:
            source, missing = self._source_for(context, sentence)
            if source is None:
                return self._quote(context, best, answer, f"not in its passage: {missing}")
            cited.append(source + 1)
            pieces.append(_cite(sentence, source + 1))
        if not pieces:
            return self._quote(context, best, answer, "the model gave no answer")
        if best is not None and not self._agrees(context, sentences[0], best):
            return self._quote(
                context, best, answer, "it does not say what the best passage sentence says"
            )
        return GroundedAnswer(" ".join(pieces), sorted(set(cited)), False, answer)

    def unsupported_facts(self, question: str, text: str, passages: Sequence[Hit]) -> list[str]:
        """The numbers and names of ``text`` (a quote's frame aside) that none of ``passages``
        holds."""
        text = _QUOTE_FRAME.sub("", text)
        context = _Context(self.analyzer, question, passages)
        held_numbers = set().union(*context.numbers) if passages else set()
        held_terms = set().union(*context.terms) if passages else set()
        return [
            fact
            for fact, key in self._facts(context, CITATION.sub("", text))
            if key not in (held_numbers if fact[0].isdigit() else held_terms)
        ]

    def _source_for(self, context: _Context, sentence: str) -> tuple[int | None, str]:
        """The passage holding every fact and most words of the sentence (the best ranked of
        those that share the most words with it), or None and what no passage holds."""
        facts = self._facts(context, sentence)
        pairs = _number_pairs(sentence)
        own = context.own_terms(sentence)
        best: tuple[int, int] | None = None
        closest: tuple[int, str] = (-1, "")
        for source in range(len(context.passages)):
            absent = [
                fact
                for fact, key in facts
                if key not in (context.numbers if fact[0].isdigit() else context.terms)[source]
            ]
            apart = [f"{a} … {b}" for a, b in pairs - context.number_pairs[source]]
            shared = len(own & context.terms[source])
            if absent or apart or (own and shared < self.min_support * len(own)):
                why = ", ".join(absent or apart) if absent or apart else "most of its words"
                closest = max(closest, (shared, why), key=lambda pair: pair[0])
                continue
            if best is None or shared > best[1]:
                best = (source, shared)
        return (best[0], "") if best is not None else (None, closest[1])

    def _facts(self, context: _Context, sentence: str) -> list[tuple[str, str]]:
        """Numbers and names, each with the key a passage must hold: digits as written, names
        as stems (so "Wisłą" is found in "Wisła"). A name the question itself says is the
        user's, not the model's; a capitalised first word is a name unless it is a function
        word."""
        facts = [(number, number) for number in _NUMBER.findall(sentence)]
        for position, word in enumerate(_WORD.findall(sentence)):
            if not word[0].isupper() or not word.isalpha() or len(word) < 2:
                continue
            terms = self.analyzer.terms(word)
            if not terms:
                continue
            folded = fold(word)
            if terms[0] in context.question_terms or (
                position == 0 and (folded in STOP_WORDS or folded in _OPENERS)
            ):
                continue
            facts.append((word, terms[0]))
        return facts

    def _agrees(self, context: _Context, lead: str, best: _Sentence) -> bool:
        """The answer's first sentence says what the best sentence says: at least half of its
        own words (numbers included) are that sentence's."""
        own = [
            terms
            for word in _WORD.findall(lead)
            if (terms := set(self.analyzer.terms(word))) and not terms & context.question_terms
        ]
        shared = sum(1 for terms in own if terms & best.terms)
        return bool(own) and shared >= self.min_support * len(own)

    def _quote(
        self, context: _Context, best: _Sentence | None, answer: str, reason: str
    ) -> GroundedAnswer:
        if best is None:
            text = (
                "Nie znalazłem odpowiedzi w źródłach."
                if context.polish
                else "The sources do not hold the answer."
            )
            return GroundedAnswer(text, [], True, answer, reason)
        frame = QUOTE_FRAMES["pl" if context.polish else "en"]
        text = frame.format(number=best.source + 1, quote=best.text)
        return GroundedAnswer(text, [best.source + 1], True, answer, reason)


class SpokenCheck:
    """An answer checked piece by piece while it is spoken (a piece: a clause or a sentence).

    Each piece must hold to a passage as ``Grounder.ground``'s sentences do, and the first must
    say what the best passage sentence says. Speech cannot be taken back, so the first piece
    that fails ends the answer; when nothing has been said yet, ``quote()`` is said instead.
    """

    def __init__(self, grounder: Grounder, question: str, passages: Sequence[Hit]) -> None:
        self._grounder = grounder
        self._context = _Context(grounder.analyzer, question, passages)
        self.said = False
        """Whether a piece has passed (and so has been said)."""

    def refusal(self, piece: str) -> str:
        """Why ``piece`` may not be said; empty when it may."""
        grounder, context = self._grounder, self._context
        source, missing = grounder._source_for(context, piece)
        if source is None:
            return f"not in its passage: {missing}"
        if not self.said:
            best = context.best_sentence(context.own_terms(piece))
            if best is not None and not grounder._agrees(context, piece, best):
                return "it does not say what the best passage sentence says"
        self.said = True
        return ""

    def quote(self) -> str:
        """The passage sentence that best answers the question, marked as a quote."""
        best = self._context.best_sentence(set())
        return self._grounder._quote(self._context, best, "", "").text


class _Context:
    """The question and its passages, analysed once per answer."""

    def __init__(self, analyzer: Analyzer, question: str, hits: Sequence[Hit]) -> None:
        self.analyzer = analyzer
        self.question_terms = set(analyzer.terms(question))
        self.passages = [hit.chunk.text for hit in hits]
        self.headings = [hit.chunk.location.removeprefix("§ ") for hit in hits]
        self.terms = [set(analyzer.terms(p)) for p in self.passages]
        self.numbers = [set(_NUMBER.findall(p)) for p in self.passages]
        self.number_pairs = [_number_pairs(p) for p in self.passages]
        lowered = question.lower()
        self.polish = bool(_POLISH_LETTERS & set(lowered)) or not (
            _ENGLISH_WORDS & set(_WORD.findall(lowered))
        )

    def own_terms(self, text: str) -> set[str]:
        """The words of ``text`` that are neither the question's nor numbers (numbers are
        facts, checked on their own)."""
        return {t for t in self.analyzer.terms(text) if not t.isdigit()} - self.question_terms

    @cached_property
    def sentences(self) -> list[_Sentence]:
        """The passages' sentences, headings left out (a heading names a topic, it does not
        answer)."""
        return [
            _Sentence(text, source, frozenset(self.analyzer.terms(_ADDRESS.sub(" ", text))))
            for source, passage in enumerate(self.passages)
            for text in split_sentences(passage)
            if text.rstrip(".") != self.headings[source]
        ]

    def best_sentence(self, hint: set[str]) -> _Sentence | None:
        """The passage sentence that shares the most (by rarity) of the question's words and
        adds words of its own; passages ranked higher win ties. Its passage's other sentences
        count for half, since a sentence often names its subject only by "it"; the words of
        the model's answer (``hint``) for a quarter, to choose between sentences that match
        the question alike."""
        frequency = Counter(term for s in self.sentences for term in s.terms)
        weight = {term: math.log(1 + len(self.sentences) / n) for term, n in frequency.items()}
        best: tuple[float, _Sentence] | None = None
        for sentence in self.sentences:
            if not sentence.terms - self.question_terms:
                continue
            score = sum(weight[t] for t in sentence.terms & self.question_terms)
            nearby = (self.terms[sentence.source] - sentence.terms) & self.question_terms
            score += 0.5 * sum(weight.get(t, 0.0) for t in nearby)
            score += 0.25 * sum(weight[t] for t in sentence.terms & hint)
            score -= 0.01 * sentence.source
            if score > 0 and (best is None or score > best[0]):
                best = (score, sentence)
        return best[1] if best is not None else None


def _number_pairs(text: str) -> set[tuple[str, str]]:
    """Each number with the one after it (whole hours' ``00`` left out): a range or a pair
    that an answer gives ("8 am to 4 pm") must stand so in its passage, not be made of two
    numbers from different places ("8 am to 8 pm … 10 am to 4 pm")."""
    numbers = [n for n in _NUMBER.findall(text) if n.strip("0") or len(n) == 1]
    return set(itertools.pairwise(numbers))


def _cite(sentence: str, number: int) -> str:
    """``[n]`` before the sentence's closing punctuation."""
    body = sentence.rstrip()
    end = len(body)
    while end and body[end - 1] in ".!?…":
        end -= 1
    return f"{body[:end]} [{number}]{body[end:]}"
