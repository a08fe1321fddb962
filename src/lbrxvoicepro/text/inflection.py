"""Polish number words in the forms that nouns and dates need.

``num2words`` gives cardinals and masculine nominative ordinals; the other forms follow from
regular endings, and the plural of a counted noun from the last digits of the number.
"""

from __future__ import annotations

from num2words import num2words

FEMININE_AFTER_TWO = {
    "godziny",
    "minuty",
    "sekundy",
    "osoby",
    "kobiety",
    "strony",
    "książki",
    "rzeczy",
    "części",
    "dziewczyny",
    "córki",
    "siostry",
    "kawy",
    "herbaty",
    "butelki",
    "złotówki",
    "doby",
    "noce",
    "ręce",
    "nogi",
    "płyty",
    "lekcje",
    "ulice",
    "karty",
    "matki",
    "babcie",
}
MASCULINE_IN_A = {"mężczyzna", "kolega", "poeta", "artysta", "dentysta", "turysta", "sędzia"}


def cardinal(number: int) -> str:
    return str(num2words(number, lang="pl"))


def decimal(text: str) -> str:
    """'3,5' or '3.5' as words: 'trzy przecinek pięć'."""
    whole, _, fraction = text.replace(".", ",").partition(",")
    words = cardinal(int(whole))
    if fraction:
        spoken = (
            " ".join(cardinal(int(d)) for d in fraction)
            if fraction.startswith("0")
            else (cardinal(int(fraction)))
        )
        words += " przecinek " + spoken
    return words


def ordinal(number: int, form: str = "nom_m") -> str:
    """Ordinal in a form: nom_m 'drugi', gen_m 'drugiego', loc_m 'drugim', nom_f 'druga',
    gen_f 'drugiej' (also locative), nom_n 'drugie'."""
    words = str(num2words(number, lang="pl", to="ordinal")).split()
    ordinal_tail: list[str] = []
    while words and words[-1].endswith(("y", "i")):
        ordinal_tail.insert(0, words.pop())
    return " ".join([*words, *(_ordinal_form(w, form) for w in ordinal_tail)])


def _ordinal_form(word: str, form: str) -> str:
    soft = word.endswith("i")
    stem = word[:-1]
    if form == "nom_m":
        return word
    if form == "gen_m":
        return stem + ("iego" if soft else "ego")
    if form == "loc_m":
        return stem + ("im" if soft else "ym")
    if form == "nom_f":
        if word.endswith("gi") or word.endswith("ki"):
            return stem + "a"
        return stem + ("ia" if soft else "a")
    if form == "gen_f":
        return stem + ("iej" if soft else "ej")
    if form == "nom_n":
        if word.endswith("gi") or word.endswith("ki"):
            return stem + "ie"
        return stem + ("ie" if soft else "e")
    raise ValueError(f"unknown ordinal form {form!r}")


def plural_form(number: int, one: str, few: str, many: str) -> str:
    """The noun form after a whole number: 1 kot, 2-4 koty (not 12-14), otherwise kotów."""
    if number == 1:
        return one
    if number % 10 in (2, 3, 4) and number % 100 not in (12, 13, 14):
        return few
    return many


def count_with_noun(number: int, noun: str) -> str:
    """Cardinal agreeing in gender with the noun that follows, where the noun shows it."""
    words = cardinal(number)
    lower = noun.lower()
    if number % 10 == 2 and number % 100 != 12 and lower in FEMININE_AFTER_TWO:
        words = words[: -len("dwa")] + "dwie"
    elif number == 1 and lower not in MASCULINE_IN_A:
        if lower.endswith("a"):
            words = "jedna"
        elif lower.endswith(("o", "e", "ę")):
            words = "jedno"
    return words
