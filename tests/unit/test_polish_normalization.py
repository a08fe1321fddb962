"""Polish (and basic English) normalization for speech: a table of real cases."""

from __future__ import annotations

import pytest

from lbrxvoicepro.text.english import normalize_english
from lbrxvoicepro.text.polish import normalize_polish
from lbrxvoicepro.text.sentences import split_sentences

POLISH_CASES = [
    # cardinals and agreement with the counted noun
    ("2 koty", "dwa koty"),
    ("5 kotów", "pięć kotów"),
    ("1 kot", "jeden kot"),
    ("1 osoba", "jedna osoba"),
    ("1 okno", "jedno okno"),
    ("1 mężczyzna", "jeden mężczyzna"),
    ("2 kobiety", "dwie kobiety"),
    ("22 osoby", "dwadzieścia dwie osoby"),
    ("12 osób", "dwanaście osób"),
    ("3 psy", "trzy psy"),
    ("21 lat", "dwadzieścia jeden lat"),
    ("100 złotych", "sto złotych"),
    ("Mam 7.", "Mam siedem."),
    ("2026", "dwa tysiące dwadzieścia sześć"),
    ("1 000 000 osób", "milion osób"),
    ("-7", "minus siedem"),
    ("3,14", "trzy przecinek czternaście"),
    ("0,05", "zero przecinek zero pięć"),
    # dates
    ("24.11.2026", "dwudziestego czwartego listopada dwa tysiące dwudziestego szóstego roku"),
    ("1.05.2004 r.", "pierwszego maja dwa tysiące czwartego roku"),
    ("2026-01-03", "trzeciego stycznia dwa tysiące dwudziestego szóstego roku"),
    ("3 maja 1791 r.", "trzeciego maja tysiąc siedemset dziewięćdziesiątego pierwszego roku"),
    ("11 listopada", "jedenastego listopada"),
    ("15.08.", "piętnastego sierpnia"),
    (
        "31.12.1999",
        "trzydziestego pierwszego grudnia tysiąc dziewięćset dziewięćdziesiątego dziewiątego roku",
    ),
    # times
    ("o 14:30", "o czternastej trzydzieści"),
    ("14:30", "czternasta trzydzieści"),
    ("od 8:00 do 16:00", "od ósmej do szesnastej"),
    ("o 7:05", "o siódmej zero pięć"),
    ("22:15", "dwudziesta druga piętnaście"),
    ("o 3:45", "o trzeciej czterdzieści pięć"),
    # money
    ("5 zł", "pięć złotych"),
    ("1 zł", "jeden złoty"),
    ("2 zł", "dwa złote"),
    ("12 zł", "dwanaście złotych"),
    ("5,50 zł", "pięć złotych pięćdziesiąt groszy"),
    ("12 zł 30 gr", "dwanaście złotych trzydzieści groszy"),
    ("3 PLN", "trzy złote"),
    ("1,01 zł", "jeden złoty jeden grosz"),
    ("€5", "pięć euro"),
    ("10 EUR", "dziesięć euro"),
    ("$3", "trzy dolary"),
    ("25 USD", "dwadzieścia pięć dolarów"),
    # percentages
    ("5%", "pięć procent"),
    ("2,5 %", "dwa przecinek pięć procent"),
    ("100%", "sto procent"),
    # units
    ("5 km", "pięć kilometrów"),
    ("2 km", "dwa kilometry"),
    ("1 km", "jeden kilometr"),
    ("120 km/h", "sto dwadzieścia kilometrów na godzinę"),
    ("2,5 kg", "dwa przecinek pięć kilograma"),
    ("3 l", "trzy litry"),
    ("-5 °C", "minus pięć stopni Celsjusza"),
    ("22 m", "dwadzieścia dwa metry"),
    ("8 h", "osiem godzin"),
    # abbreviations
    ("np. tak", "na przykład tak"),
    ("ul. Długa", "ulica Długa"),
    ("dr Nowak", "doktor Nowak"),
    ("prof. Kowalski", "profesor Kowalski"),
    ("tzw. efekt", "tak zwany efekt"),
    ("i tak itd.", "i tak i tak dalej"),
    ("m.in. to", "między innymi to"),
    ("ok. 5 km", "około pięć kilometrów"),
    ("nr 7", "numer siedem"),
    # centuries
    ("w XX w.", "w dwudziestym wieku"),
    ("XIX wieku", "dziewiętnastego wieku"),
    ("XXI wiek", "dwudziesty pierwszy wiek"),
    # symbols
    ("A & B", "A i B"),
    ("2 + 2 = 4", "dwa plus dwa równa się cztery"),
]


@pytest.mark.parametrize(("written", "spoken"), POLISH_CASES)
def test_polish_normalization(written: str, spoken: str) -> None:
    assert normalize_polish(written) == spoken


def test_the_polish_table_is_large_enough() -> None:
    assert len(POLISH_CASES) >= 60


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("It costs $5.50.", "It costs five dollars fifty cents."),
        ("Dr. Smith arrived at 10:30.", "Doctor Smith arrived at ten thirty."),
        ("20% off on the 1st", "twenty percent off on the first"),
        ("1,250 people", "one thousand two hundred and fifty people"),
        ("e.g. this", "for example this"),
    ],
)
def test_english_basics(written: str, spoken: str) -> None:
    assert normalize_english(written) == spoken


def test_sentences_do_not_break_on_abbreviations_initials_or_decimals() -> None:
    text = (
        "Np. to jest zdanie. A to drugie, np. Kraków. Prof. J. Kowalski ma 3.5 kota! "
        "Czy tak? Koniec itd. Nowe zdanie ul. Długa 5. Mr. Brown said hi. Done."
    )
    assert list(split_sentences(text)) == [
        "Np. to jest zdanie.",
        "A to drugie, np. Kraków.",
        "Prof. J. Kowalski ma 3.5 kota!",
        "Czy tak?",
        "Koniec itd.",
        "Nowe zdanie ul. Długa 5.",
        "Mr. Brown said hi.",
        "Done.",
    ]


def test_overlong_sentences_are_cut_at_commas_then_spaces() -> None:
    long = ", ".join(["bardzo długie zdanie"] * 100)
    pieces = list(split_sentences(long, max_chars=100))
    assert all(len(p) <= 100 for p in pieces)
    assert " ".join(pieces).replace(" ", "") == long.replace(" ", "")
    assert list(split_sentences("!!! ... ???")) == []
