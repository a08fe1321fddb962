"""Polish text normalization before synthesis: digits, dates, times, money, units, abbreviations.

Rules are applied in order, most specific first (a date before a plain number). Where the
grammatical case depends on more than the next word, the nominative is used.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lbrxvoicepro.text.inflection import (
    cardinal,
    count_with_noun,
    decimal,
    ordinal,
    plural_form,
)

MONTHS_GENITIVE = (
    "stycznia",
    "lutego",
    "marca",
    "kwietnia",
    "maja",
    "czerwca",
    "lipca",
    "sierpnia",
    "września",
    "października",
    "listopada",
    "grudnia",
)
ABBREVIATIONS = {
    "np.": "na przykład",
    "ul.": "ulica",
    "al.": "aleja",
    "pl.": "plac",
    "prof.": "profesor",
    "dr": "doktor",
    "dr.": "doktor",
    "mgr": "magister",
    "inż.": "inżynier",
    "tzw.": "tak zwany",
    "itd.": "i tak dalej",
    "itp.": "i tym podobne",
    "m.in.": "między innymi",
    "tj.": "to jest",
    "tzn.": "to znaczy",
    "wg": "według",
    "ok.": "około",
    "godz.": "godzina",
    "nr": "numer",
    "tel.": "telefon",
    "zob.": "zobacz",
    "ws.": "w sprawie",
    "min.": "minut",
    "sek.": "sekund",
    "gr.": "groszy",
    "mln": "milionów",
    "mld": "miliardów",
    "tys.": "tysięcy",
    "św.": "święty",
    "płk": "pułkownik",
    "gen.": "generał",
    "ks.": "ksiądz",
    "pn.": "poniedziałek",
}
# unit: (one, few, many, fraction)
UNITS = {
    "km/h": (
        "kilometr na godzinę",
        "kilometry na godzinę",
        "kilometrów na godzinę",
        "kilometra na godzinę",
    ),
    "km": ("kilometr", "kilometry", "kilometrów", "kilometra"),
    "cm": ("centymetr", "centymetry", "centymetrów", "centymetra"),
    "mm": ("milimetr", "milimetry", "milimetrów", "milimetra"),
    "m": ("metr", "metry", "metrów", "metra"),
    "kg": ("kilogram", "kilogramy", "kilogramów", "kilograma"),
    "g": ("gram", "gramy", "gramów", "grama"),
    "l": ("litr", "litry", "litrów", "litra"),
    "ml": ("mililitr", "mililitry", "mililitrów", "mililitra"),
    "°C": ("stopień Celsjusza", "stopnie Celsjusza", "stopni Celsjusza", "stopnia Celsjusza"),
    "h": ("godzina", "godziny", "godzin", "godziny"),
    "kWh": ("kilowatogodzina", "kilowatogodziny", "kilowatogodzin", "kilowatogodziny"),
    "GB": ("gigabajt", "gigabajty", "gigabajtów", "gigabajta"),
}
CURRENCIES = {
    "zł": ("złoty", "złote", "złotych", "złotego"),
    "PLN": ("złoty", "złote", "złotych", "złotego"),
    "€": ("euro", "euro", "euro", "euro"),
    "EUR": ("euro", "euro", "euro", "euro"),
    "$": ("dolar", "dolary", "dolarów", "dolara"),
    "USD": ("dolar", "dolary", "dolarów", "dolara"),
}
SUBUNITS = {
    "zł": ("grosz", "grosze", "groszy"),
    "PLN": ("grosz", "grosze", "groszy"),
    "€": ("cent", "centy", "centów"),
    "EUR": ("cent", "centy", "centów"),
    "$": ("cent", "centy", "centów"),
    "USD": ("cent", "centy", "centów"),
}
ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
SYMBOLS = {"&": " i ", "+": " plus ", "=": " równa się ", "§": " paragraf ", "#": " numer "}

NUMBER = r"\d+(?:[.,]\d+)?"
_WORD_END = r"(?![\w])"


def _quantity(number_text: str, forms: tuple[str, str, str, str]) -> str:
    sign = "minus " if number_text[0] in "-−" else ""
    number_text = number_text.lstrip("-−")
    if number_text.isdigit():
        count = int(number_text)
        return f"{sign}{cardinal(count)} {plural_form(count, *forms[:3])}"
    return f"{sign}{decimal(number_text)} {forms[3]}"


def _spoken_date(day: int, month: str, year: str | None) -> str:
    spoken = f"{ordinal(day, 'gen_m')} {month}"
    if year:
        spoken += f" {ordinal(int(year), 'gen_m')} roku"
    return spoken


def _date(match: re.Match[str]) -> str:
    day, month = int(match["day"]), int(match["month"])
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return match.group(0)
    return _spoken_date(day, MONTHS_GENITIVE[month - 1], match["year"])


def _date_with_month_name(match: re.Match[str]) -> str:
    return _spoken_date(int(match["day"]), match["month"], match["year"])


def _time(match: re.Match[str]) -> str:
    hour, minute = int(match["hour"]), int(match["minute"])
    if hour > 24 or minute > 59:
        return match.group(0)
    preposition = match["prep"] or ""
    form = "gen_f" if preposition.strip().lower() in ("o", "od", "do", "po", "przed") else "nom_f"
    spoken = ordinal(hour, form) if hour else "zero"
    if minute:
        spoken += " " + (f"zero {cardinal(minute)}" if minute < 10 else cardinal(minute))
    return f"{preposition}{spoken}"


def _money(match: re.Match[str]) -> str:
    symbol = match["pre"] or match["post"]
    amount = (match["amount"] or match["amount2"]).replace(" ", "")
    whole, _, fraction = amount.replace(".", ",").partition(",")
    forms = CURRENCIES[symbol]
    spoken = f"{cardinal(int(whole))} {plural_form(int(whole), *forms[:3])}"
    cents = int(fraction.ljust(2, "0")[:2]) if fraction else int(match["sub"] or 0)
    if cents:
        spoken += f" {cardinal(cents)} {plural_form(cents, *SUBUNITS[symbol])}"
    return spoken


def _percent(match: re.Match[str]) -> str:
    number = match["number"]
    words = cardinal(int(number)) if number.isdigit() else decimal(number)
    return f"{words} procent"


def _roman_century(match: re.Match[str]) -> str:
    value, previous = 0, 0
    for char in reversed(match["roman"]):
        digit = ROMAN[char]
        value += -digit if digit < previous else digit
        previous = max(previous, digit)
    word = match["word"].lower()
    preposition = match["prep"] or ""
    if word in ("w.", "wieku") and preposition.strip().lower() == "w":
        return f"{preposition}{ordinal(value, 'loc_m')} wieku"
    form = "gen_m" if word in ("w.", "wieku") else "nom_m"
    return f"{preposition}{ordinal(value, form)} {'wiek' if form == 'nom_m' else 'wieku'}"


def _counted(match: re.Match[str]) -> str:
    return f"{count_with_noun(int(match['number']), match['noun'])} {match['noun']}"


def _number(match: re.Match[str]) -> str:
    text = match.group(0)
    sign = "minus " if text.startswith(("-", "−")) else ""
    digits = text.lstrip("-−")
    return sign + (cardinal(int(digits)) if digits.isdigit() else decimal(digits))


def _abbreviation(match: re.Match[str]) -> str:
    return ABBREVIATIONS[match.group(0).lower()]


_UNIT_KEYS = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))
_CURRENCY_KEYS = "|".join(re.escape(c) for c in sorted(CURRENCIES, key=len, reverse=True))
_ABBREVIATION_KEYS = "|".join(re.escape(a) for a in sorted(ABBREVIATIONS, key=len, reverse=True))

RULES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"(?<=\d) (?=\d{3}\b)"), lambda m: ""),
    (
        re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})\b"),
        _date,
    ),
    (
        re.compile(r"\b(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})?(?:\s?r\.)?"),
        _date,
    ),
    (
        re.compile(
            rf"\b(?P<day>\d{{1,2}}) (?P<month>{'|'.join(MONTHS_GENITIVE)})"
            r"(?: (?P<year>\d{4})(?: ?r\.| roku)?)?"
        ),
        _date_with_month_name,
    ),
    (
        re.compile(r"(?P<prep>\b(?:o|od|do|po|przed) )?\b(?P<hour>\d{1,2}):(?P<minute>\d{2})\b"),
        _time,
    ),
    (
        re.compile(
            rf"(?:(?P<pre>[$€])\s?(?P<amount>{NUMBER})|(?P<amount2>{NUMBER})\s?"
            rf"(?P<post>{_CURRENCY_KEYS})(?:\s(?P<sub>\d{{1,2}})\s?gr\.?)?){_WORD_END}"
        ),
        _money,
    ),
    (re.compile(rf"(?P<number>{NUMBER})\s?%"), _percent),
    (
        re.compile(rf"(?P<number>[-−]?{NUMBER})\s?(?P<unit>{_UNIT_KEYS}){_WORD_END}"),
        lambda m: _quantity(m["number"], UNITS[m["unit"]]),
    ),
    (
        re.compile(r"(?P<prep>\b[wW] )?\b(?P<roman>[IVXLC]+) (?P<word>w\.|wieku|wiek)(?![\w])"),
        _roman_century,
    ),
    (re.compile(r"(?<![\w.])(?P<number>\d{1,9}) (?P<noun>[a-ząćęłńóśźż]+)"), _counted),
    (re.compile(r"(?<![\w])[-−]?\d+(?:[.,]\d+)?"), _number),
    (re.compile(rf"(?<![\w.])(?:{_ABBREVIATION_KEYS})(?![\w])", re.IGNORECASE), _abbreviation),
]


def normalize_polish(text: str) -> str:
    """Digits, dates, times, money, percentages, units and abbreviations spelled out."""
    for symbol, words in SYMBOLS.items():
        text = text.replace(symbol, words)
    for pattern, replace in RULES:
        text = pattern.sub(replace, text)
    return re.sub(r"\s+", " ", text).strip()
