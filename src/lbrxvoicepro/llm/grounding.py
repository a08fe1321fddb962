"""Answers held to their passages: inline citations, and a quote where the model strays.

A small model answers fluently and often wrongly: a name from the wrong passage, an hour that
no passage holds, half of a name, Saturday's hours for Friday. Each sentence of an answer from
a knowledge base is checked here: its numbers and names must appear in the passage it cites
(a name whole, as the passage gives it), most of its other words too, and the answer as a
whole must say something that the passage sentence which best answers the question says, with
its numbers from the clause that answers. An answer that fails is replaced by that sentence,
quoted and cited, so the user is never told a fact that the sources do not hold.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from lbrxvoicepro.kb.analyzer import STOP_WORDS, Analyzer, fold
from lbrxvoicepro.kb.retriever import Hit
from lbrxvoicepro.llm.passages import NUMBER, WORD, Passages, Sentence, number_pairs, numbers
from lbrxvoicepro.text.sentences import split_sentences

CITATION = re.compile(r"\s*\[\d+(?:\s*[,-]\s*\d+)*\]")
"""``[1]``, ``[2, 3]``: written for the reader; taken out before an answer is checked or
spoken."""
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
        context = Passages(self.analyzer, question, passages)
        sentences = [s for s in split_sentences(CITATION.sub("", answer)) if s]
        best = context.best_sentence
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
        context = Passages(self.analyzer, question, passages)
        held_numbers = set().union(*context.numbers) if passages else set()
        held_terms = set().union(*context.terms) if passages else set()
        return [
            fact
            for fact, key in self._facts(context, CITATION.sub("", text))
            if key not in (held_numbers if fact[0].isdigit() else held_terms)
        ]

    def _source_for(self, context: Passages, sentence: str) -> tuple[int | None, str]:
        """The passage holding every fact and most words of the sentence (the best ranked of
        those that share the most words with it), or None and what no passage holds."""
        facts = self._facts(context, sentence)
        pairs = number_pairs(sentence)
        own = context.own_terms(sentence)
        best: tuple[int, int] | None = None
        closest: tuple[int, str] = (-1, "")
        for source in range(len(context.passages)):
            absent = [
                fact
                for fact, key in facts
                if key not in (context.numbers if fact[0].isdigit() else context.terms)[source]
            ]
            absent += context.partial_names(source, facts, sentence)
            apart = [f"{a} … {b}" for a, b in pairs - context.number_pairs[source]]
            shared = len(own & context.terms[source])
            if absent or apart or (own and shared < self.min_support * len(own)):
                why = ", ".join(absent or apart) if absent or apart else "most of its words"
                closest = max(closest, (shared, why), key=lambda pair: pair[0])
                continue
            if best is None or shared > best[1]:
                best = (source, shared)
        return (best[0], "") if best is not None else (None, closest[1])

    def _facts(self, context: Passages, sentence: str) -> list[tuple[str, str]]:
        """Numbers and names, each with the key a passage must hold: digits as written, names
        as stems (so "Wisłą" is found in "Wisła"). A name the question itself says is the
        user's, not the model's; a capitalised first word is a name unless it is a function
        word."""
        facts = [(number, number) for number in NUMBER.findall(sentence)]
        for position, word in enumerate(WORD.findall(sentence)):
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

    def _agrees(self, context: Passages, lead: str, best: Sentence) -> bool:
        """The answer's first sentence says what the best sentence says: at least half of its
        own words (numbers included) are that sentence's, and the numbers it takes from that
        sentence stand in the clause the question asks about (Friday's hours, not Saturday's,
        from "Monday to Friday 9:00–18:00, Saturdays 10:00–14:00")."""
        own = [
            terms
            for word in WORD.findall(lead)
            if (terms := set(self.analyzer.terms(word)) or numbers(word))  # "9": a word too
            and not terms & context.question_terms
        ]
        best_numbers = numbers(best.text)
        held = best.terms | best_numbers
        shared = sum(1 for terms in own if terms & held)
        if not own or shared < self.min_support * len(own):
            return False
        taken = numbers(lead) & best_numbers
        return taken <= numbers(context.best_clause(best))

    def _quote(
        self, context: Passages, best: Sentence | None, answer: str, reason: str
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
        self._context = Passages(grounder.analyzer, question, passages)
        self.said = False
        """Whether a piece has passed (and so has been said)."""

    def refusal(self, piece: str) -> str:
        """Why ``piece`` may not be said; empty when it may."""
        grounder, context = self._grounder, self._context
        source, missing = grounder._source_for(context, piece)
        if source is None:
            return f"not in its passage: {missing}"
        if not self.said:
            best = context.best_sentence
            if best is not None and not grounder._agrees(context, piece, best):
                return "it does not say what the best passage sentence says"
        self.said = True
        return ""

    def quote(self) -> str:
        """The passage sentence that best answers the question, marked as a quote."""
        best = self._context.best_sentence
        return self._grounder._quote(self._context, best, "", "").text


def _cite(sentence: str, number: int) -> str:
    """``[n]`` before the sentence's closing punctuation."""
    body = sentence.rstrip()
    end = len(body)
    while end and body[end - 1] in ".!?…":
        end -= 1
    return f"{body[:end]} [{number}]{body[end:]}"
