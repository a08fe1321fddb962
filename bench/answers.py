"""Answers from the bundled knowledge base: how many are right, and how many hold to their sources.

36 questions (24 Polish, 12 English) about the documents in ``examples/kb`` (a Kraków guide,
a florist's customer page, a library's visitor page), each with the facts a right answer must
contain. Every question is asked once of the bundled Gemma 3 270M (greedy, top_k 5, the default
system prompt); the model's text is scored twice, in the same run:

- **today's prompt** (baseline): the text as the model wrote it, with every passage given listed
  as its source (what ``ask`` printed before answers were grounded);
- **lbrxvoicepro**: the same text through ``llm.grounding`` (inline ``[n]`` citations, and a
  quote of the best passage sentence where the model stated what its passage does not hold).

An answer is **grounded** when every number and name in it is held by a passage it cites (the
baseline cites every passage given); **correct** when it contains every expected fact and is
grounded (a right fact beside an invented one is not a right answer). A second set of 16
questions (``HELD_OUT``), written after the grounding rules were fitted to the first, is scored
the same way.

    .venv/bin/python bench/answers.py [--verbose]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from lbrxvoicepro.config import Settings
from lbrxvoicepro.kb.analyzer import fold
from lbrxvoicepro.kb.base import KnowledgeBase, expand_paths
from lbrxvoicepro.llm.base import ChatModel, complete
from lbrxvoicepro.llm.grounding import Grounder
from lbrxvoicepro.llm.prompt import build_prompt
from lbrxvoicepro.llm.rag import ground
from lbrxvoicepro.runtime import ModelManager


@dataclass(frozen=True)
class Question:
    text: str
    expected: tuple[str, ...]
    """Facts a right answer contains, folded (lower case, no diacritics); ``a|b``: either."""


QUESTIONS = [
    Question("Do której godziny sklep jest otwarty w piątek?", ("18",)),
    Question("W jakich godzinach kwiaciarnia jest otwarta w sobotę?", ("10", "14")),
    Question("Czy kwiaciarnia jest otwarta w niedzielę?", ("zamkniet|nie jest otwart|nie,",)),
    Question("Kto przyjmuje zamówienia w kwiaciarni?", ("anna nowak",)),
    Question("Jaki jest numer telefonu kwiaciarni?", ("12 345 67 89",)),
    Question("Kto rozpatruje reklamacje?", ("wisniewsk",)),
    Question("Ile kosztuje dostawa na terenie Krakowa?", ("25",)),
    Question("Od jakiej kwoty dostawa jest bezpłatna?", ("200",)),
    Question(
        "Do której godziny trzeba złożyć zamówienie, żeby dostawa była tego samego dnia?", ("12",)
    ),
    Question("Kto założył kwiaciarnię Bratek?", ("maria bratkowska",)),
    Question("W którym roku otwarto drugi sklep kwiaciarni?", ("2015",)),
    Question("W jakiej miejscowości jest drugi sklep kwiaciarni?", ("wieliczk|wieliczc",)),
    Question("W ciągu ilu godzin można zwrócić uszkodzony bukiet?", ("24",)),
    Question("Przy jakiej ulicy jest kwiaciarnia?", ("dlug",)),
    Question("Nad jaką rzeką leży Kraków?", ("wisl",)),
    Question("Kto założył Akademię Krakowską?", ("kazimierz wielki",)),
    Question("W którym roku założono Akademię Krakowską?", ("1364",)),
    Question("Jak dziś nazywa się Akademia Krakowska?", ("jagiellonsk",)),
    Question("Kto studiował na Akademii Krakowskiej?", ("kopernik",)),
    Question("Co stoi na środku Rynku Głównego?", ("sukiennic",)),
    Question("Co stoi przed Smoczą Jamą?", ("pomnik smoka",)),
    Question("Ile trwa podróż pociągiem z lotniska do Dworca Głównego?", ("dwudziestu|20",)),
    Question("Kiedy Stare Miasto wpisano na listę UNESCO?", ("1978",)),
    Question("Do kiedy Kraków był stolicą Polski?", ("xvi",)),
    Question("When does the library open on weekdays?", ("8",)),
    Question("What are the library's opening hours on Saturdays?", ("10 am", "4 pm")),
    Question("Is the library open on Sundays?", ("closed|no,",)),
    Question("Who is the head librarian?", ("sarah collins",)),
    Question("How much do visitors from elsewhere pay for membership?", ("12 pounds",)),
    Question("How many books can a member borrow at a time?", ("10|ten",)),
    Question("For how long can I borrow a book?", ("three weeks|3 weeks",)),
    Question("How many times can a loan be renewed?", ("twice|two",)),
    Question("What is the late fee?", ("20 pence",)),
    Question("When was the library founded?", ("1952",)),
    Question("On which street is the library building?", ("mill street",)),
    Question("What do I need to bring to join the library?", ("photo id", "proof of address")),
]


HELD_OUT = [
    Question("Kiedy założono kwiaciarnię?", ("1998",)),
    Question("Gdzie znajduje się Smocza Jama?", ("wzgorz",)),
    Question("Czym najwygodniej poruszać się po Krakowie?", ("tramwaj",)),
    Question("Gdzie kupuje się bilet czasowy?", ("automac", "aplikacj")),
    Question("Co gra się z wieży Kościoła Mariackiego?", ("hejnal",)),
    Question("Co zieje ogniem?", ("smok",)),
    Question("Kogo chowano w katedrze wawelskiej?", ("wladc",)),
    Question("Jaki jest adres e-mail do zamówień?", ("zamowienia@bratek.pl",)),
    Question("Ile kosztuje dostawa przy zamówieniu za 300 zł?", ("bezplatn|0 zl",)),
    Question("Kiedy sklep jest zamknięty?", ("niedziel",)),
    Question("Is membership free for residents?", ("free",)),
    Question("When did the library move to Mill Street?", ("1987",)),
    Question("Where do I join the library?", ("front desk",)),
    Question("How can I renew a loan?", ("online", "phone")),
    Question("Who can join for free?", ("resident",)),
    Question("What time does the library close on weekdays?", ("8 pm",)),
]
"""Questions written after the grounding rules were fitted to ``QUESTIONS`` (2026-12-05), to
see whether the rules carry over to questions they were not written against."""


def has_facts(answer: str, question: Question) -> bool:
    folded = fold(answer)
    return all(any(form in folded for form in fact.split("|")) for fact in question.expected)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--verbose", action="store_true", help="every answer, both ways")
    args = parser.parse_args()
    base = Settings()
    llm = base.llm.model_copy(update={"temperature": 0.0})
    with tempfile.TemporaryDirectory() as folder:
        settings = base.model_copy(
            update={"kb": base.kb.model_copy(update={"data_dir": Path(folder)}), "llm": llm}
        )
        models = ModelManager(settings)
        kb = models.knowledge_base("answers")
        files, _ = expand_paths([Path("examples/kb")])
        report = kb.add(files)
        assert len(report.added) == len(files) >= 3, report
        model = models.chat_model()
        for name, questions in (("questions", QUESTIONS), ("held-out questions", HELD_OUT)):
            score(name, questions, kb, model, settings, args.verbose)
        models.unload()


def score(
    name: str,
    questions: list[Question],
    kb: KnowledgeBase,
    model: ChatModel,
    settings: Settings,
    verbose: bool,
) -> None:
    """Ask each question once; print the tallies of the model's text and of the grounded one."""
    llm = settings.llm
    grounder = Grounder()
    today = {"correct": 0, "grounded": 0}
    ours = {"correct": 0, "grounded": 0, "quoted": 0}
    seconds = []
    for question in questions:
        hits = kb.search(question.text, settings.kb.top_k)
        prompt = build_prompt(model, llm.system_prompt, question.text, hits, (), llm.max_tokens)
        started = time.perf_counter()
        written = complete(model, prompt.messages, llm.max_tokens, llm.temperature)
        grounded = ground(question.text, prompt, written, llm)
        seconds.append(time.perf_counter() - started)
        invented = grounder.unsupported_facts(question.text, written, prompt.sources)
        cited = [prompt.sources[number - 1] for number in grounded.citations]
        unheld = grounder.unsupported_facts(question.text, grounded.text, cited)
        scores = (
            (today, not invented, has_facts(written, question)),
            (ours, not unheld, has_facts(grounded.text, question)),
        )
        for tally, is_grounded, right in scores:
            tally["grounded"] += is_grounded
            tally["correct"] += is_grounded and right
        ours["quoted"] += grounded.quoted
        if verbose:
            print(f"Q: {question.text}")
            print(f"  today: {written.strip()[:160]!r}  not held: {invented}")
            print(f"  ours:  {grounded.text[:160]!r}  not held: {unheld}")
    total = len(questions)
    print(f"{total} {name}, examples/kb, {model.name}, greedy, top_k {settings.kb.top_k}")
    print(f"{'':<16}{'correct':>10}{'grounded':>10}{'quoted':>8}")
    print(f"{'today':<16}{today['correct']:>10}{today['grounded']:>10}{'-':>8}")
    print(f"{'lbrxvoicepro':<16}{ours['correct']:>10}{ours['grounded']:>10}{ours['quoted']:>8}")
    ratio = ours["correct"] / today["correct"] if today["correct"] else float("inf")
    print(
        f"correct: {today['correct'] / total:.0%} -> {ours['correct'] / total:.0%} "
        f"({ratio:.2f}x); grounded: {today['grounded'] / total:.0%} -> "
        f"{ours['grounded'] / total:.0%}; median answer {sorted(seconds)[total // 2]:.2f} s"
    )


if __name__ == "__main__":
    main()
