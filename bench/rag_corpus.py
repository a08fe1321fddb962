"""A generated, labelled retrieval corpus: Polish and English passages about invented people.

Every passage describes one person (a unique invented name) with a city, a year, a profession
and a work; passages share most of their vocabulary, so a query must find the one right passage
among thousands of look-alikes. Polish queries use other grammatical cases than the passages
("w Gdańsku" in the passage, "Gdańsk" in the query), so inflection matters.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

SYLLABLES = [
    "ba",
    "be",
    "bo",
    "da",
    "de",
    "do",
    "ka",
    "ke",
    "ko",
    "la",
    "le",
    "lo",
    "ma",
    "me",
    "mo",
    "na",
    "ne",
    "no",
    "ra",
    "re",
    "ro",
    "sa",
    "se",
    "so",
    "ta",
    "te",
    "to",
    "wa",
    "we",
    "za",
    "ze",
]
FIRST_PL = [
    "Adam",
    "Anna",
    "Bartosz",
    "Barbara",
    "Cezary",
    "Dorota",
    "Edward",
    "Ewa",
    "Filip",
    "Grażyna",
    "Henryk",
    "Irena",
    "Jan",
    "Joanna",
    "Karol",
    "Katarzyna",
    "Leszek",
    "Lucyna",
    "Marek",
    "Maria",
    "Norbert",
    "Olga",
    "Piotr",
    "Renata",
    "Stefan",
    "Teresa",
    "Tomasz",
    "Urszula",
    "Wiktor",
    "Zofia",
]
FIRST_EN = [
    "Alice",
    "Brian",
    "Clara",
    "David",
    "Emma",
    "Frank",
    "Grace",
    "Henry",
    "Isla",
    "Jack",
    "Kate",
    "Liam",
    "Mia",
    "Noah",
    "Olive",
    "Paul",
    "Quinn",
    "Rose",
    "Sam",
    "Tara",
    "Victor",
    "Wendy",
    "Xavier",
    "Yara",
    "Zack",
]
# (nominative, locative) of Polish cities: passages use the locative, queries the nominative.
CITIES_PL = [
    ("Kraków", "Krakowie"),
    ("Warszawa", "Warszawie"),
    ("Gdańsk", "Gdańsku"),
    ("Poznań", "Poznaniu"),
    ("Wrocław", "Wrocławiu"),
    ("Łódź", "Łodzi"),
    ("Lublin", "Lublinie"),
    ("Toruń", "Toruniu"),
    ("Szczecin", "Szczecinie"),
    ("Katowice", "Katowicach"),
    ("Białystok", "Białymstoku"),
    ("Rzeszów", "Rzeszowie"),
    ("Opole", "Opolu"),
    ("Kielce", "Kielcach"),
    ("Olsztyn", "Olsztynie"),
    ("Zakopane", "Zakopanem"),
]
CITIES_EN = [
    "London",
    "Leeds",
    "York",
    "Bristol",
    "Dublin",
    "Boston",
    "Denver",
    "Austin",
    "Seattle",
    "Toronto",
    "Sydney",
    "Perth",
    "Oxford",
    "Cambridge",
    "Glasgow",
    "Cardiff",
]
JOBS_PL = [
    ("lekarz", "lekarzem"),
    ("nauczyciel", "nauczycielem"),
    ("architekt", "architektem"),
    ("malarz", "malarzem"),
    ("inżynier", "inżynierem"),
    ("piekarz", "piekarzem"),
    ("muzyk", "muzykiem"),
    ("ogrodnik", "ogrodnikiem"),
    ("kowal", "kowalem"),
    ("zegarmistrz", "zegarmistrzem"),
]
JOBS_EN = [
    "doctor",
    "teacher",
    "architect",
    "painter",
    "engineer",
    "baker",
    "musician",
    "gardener",
    "blacksmith",
    "watchmaker",
]
WORKS_PL = [
    ("most", "most"),
    ("kościół", "kościół"),
    ("szkoła", "szkołę"),
    ("młyn", "młyn"),
    ("latarnia", "latarnię"),
    ("biblioteka", "bibliotekę"),
    ("ratusz", "ratusz"),
    ("fontanna", "fontannę"),
]
WORKS_EN = [
    "bridge",
    "church",
    "school",
    "mill",
    "lighthouse",
    "library",
    "town",
    "hall",
    "fountain",
]


@dataclass(frozen=True)
class Corpus:
    passages: list[str]
    queries: list[tuple[str, int]]
    """(query, index of the one passage that answers it)."""


def _surname(rng: random.Random, used: set[str]) -> str:
    while True:
        name = "".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize() + rng.choice(
            ["k", "n", "ski", "wicz", "r"]
        )
        if name not in used:
            used.add(name)
            return name


def generate(size: int = 10_000, seed: int = 7) -> Corpus:
    rng = random.Random(seed)
    used: set[str] = set()
    passages, queries = [], []
    for index in range(size):
        surname = _surname(rng, used)
        year = rng.randint(1700, 1990)
        if index % 2 == 0:
            first = rng.choice(FIRST_PL)
            city, city_loc = rng.choice(CITIES_PL)
            job, job_ins = rng.choice(JOBS_PL)
            work, work_acc = rng.choice(WORKS_PL)
            other, other_loc = rng.choice(CITIES_PL)
            passages.append(
                f"{first} {surname} urodził się w {city_loc} w roku {year}. Przez wiele lat był "
                f"{job_ins}, a w {other_loc} zaprojektował {work_acc}, który stoi do dziś. "
                f"Mieszkańcy wspominają go jako człowieka spokojnego i pracowitego."
            )
            queries.append(
                (
                    rng.choice(
                        [
                            f"Gdzie urodził się {first} {surname}?",
                            f"Kim z zawodu był {surname}?",
                            f"Który {job} urodził się w {year} w mieście {city}?",
                            f"Co {surname} zaprojektował w mieście {other}?",
                        ]
                    ),
                    index,
                )
            )
        else:
            first = rng.choice(FIRST_EN)
            city = rng.choice(CITIES_EN)
            job = rng.choice(JOBS_EN)
            work = rng.choice(WORKS_EN)
            other = rng.choice(CITIES_EN)
            passages.append(
                f"{first} {surname} was born in {city} in {year}. For many years they worked as "
                f"a {job}, and in {other} they designed the {work} that still stands today. "
                f"Neighbours remember a calm and hard-working person."
            )
            queries.append(
                (
                    rng.choice(
                        [
                            f"Where was {first} {surname} born?",
                            f"What was {surname}'s profession?",
                            f"Which {job} was born in {city} in {year}?",
                            f"What did {surname} design in {other}?",
                        ]
                    ),
                    index,
                )
            )
    rng.shuffle(queries)
    return Corpus(passages, queries)
