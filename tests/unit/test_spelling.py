"""Words Whisper misspells, put right from wordfreq's word list (the real list, no stand-in)."""

from __future__ import annotations

import random

import pytest

from lbrxvoicepro.asr.whisper import _respelled
from lbrxvoicepro.text.spelling import speller
from lbrxvoicepro.types import Segment, Word


@pytest.fixture(scope="module")
def polish():  # type: ignore[no-untyped-def]
    found = speller("pl")
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("heard", "meant"),
    [
        ("szawę", "szafę"),  # w/f sound alike: "sławę" is as near in letters and more common
        ("trzelec", "strzelec"),
        ("automatizacji", "automatyzacji"),
        ("najstotniejsze", "najistotniejsze"),  # three edits allowed from eight letters
    ],
)
def test_a_word_the_list_does_not_know_becomes_the_closest_known_one(polish, heard, meant) -> None:  # type: ignore[no-untyped-def]
    assert polish.word(heard) == meant


def test_known_words_numbers_case_and_punctuation_are_kept(polish) -> None:  # type: ignore[no-untyped-def]
    text = "Kupiłem nową Szawę w Bełchatowie, 24.11.2026 o 14:30 — TRZELEC!"
    assert polish.text(text) == "Kupiłem nową Szafę w Bełchatowie, 24.11.2026 o 14:30 — STRZELEC!"
    assert polish.word("qxqxqxq") == "qxqxqxq"  # nothing near enough: left as it is
    assert polish.text("  Ala ma kota.\n") == "  Ala ma kota.\n"


def test_a_word_split_in_two_is_joined_where_that_makes_a_known_word(polish) -> None:  # type: ignore[no-untyped-def]
    assert polish.text("Nie było żadnych nabo żeństw.") == "Nie było żadnych nabożeństw."
    assert polish.pieces([" nabo", " żeństw.", " Szawę,"]) == [(2, " nabożeństw."), (1, " Szafę,")]
    assert polish.text("Nie było, żeństw tu.") == "Nie było, żeńska tu."  # not across a comma
    assert polish.text("po skorpionie") == "po skorpionie"  # two known words stay two


def test_a_rare_fragment_is_joined_to_its_neighbour_into_a_known_word(polish) -> None:  # type: ignore[no-untyped-def]
    assert polish.text("Drzwi są ognio odporne.") == "Drzwi są ognioodporne."
    assert polish.text("Substancje rako twórcze.") == "Substancje rakotwórcze."
    assert polish.text("półprzewodnik i pół przewodnik") == "półprzewodnik i pół przewodnik"


def test_a_joined_word_spans_both_words_it_was_heard_as(polish) -> None:  # type: ignore[no-untyped-def]
    heard = Segment(
        1.0,
        2.4,
        " Szawę i nabo żeństw.",
        (
            Word(" Szawę", 1.0, 1.5, 0.9),
            Word(" i", 1.5, 1.6, 0.8),
            Word(" nabo", 1.7, 2.0, 0.6),
            Word(" żeństw.", 2.0, 2.4, 0.7),
        ),
    )
    spelled = _respelled(heard, polish)
    assert spelled.text == " Szafę i nabożeństw."
    assert spelled.words == (
        Word(" Szafę", 1.0, 1.5, 0.9),
        Word(" i", 1.5, 1.6, 0.8),
        Word(" nabożeństw.", 1.7, 2.4, 0.6),
    )


def test_a_language_without_a_word_list_has_no_speller() -> None:
    assert speller("xx") is None


def test_the_letter_filter_loses_no_word_a_full_scan_would_find(polish) -> None:  # type: ignore[no-untyped-def]
    """Misspellings of common words (a letter dropped, a letter doubled, two letters changed):
    the speller's answer is the one a scan of every known word gives."""
    from rapidfuzz import process
    from rapidfuzz.distance import Levenshtein

    from lbrxvoicepro.text.spelling import COMMON_FREQUENCY, LONG_WORD, MAX_EDITS, _sound

    known = [w for w, f in polish._frequency.items() if f >= COMMON_FREQUENCY and w.isalpha()]
    rng = random.Random(7)
    heard = set()
    for word in rng.sample([w for w in known[:20000] if len(w) >= 4], 40):
        spot, other = rng.sample(range(len(word)), 2)
        changed = list(word)
        changed[spot], changed[other] = rng.choices("aąbcćeęfhijklłmnńoóprsśtuwyzźż", k=2)
        heard |= {
            word[:spot] + word[spot + 1 :],
            word[:spot] + word[spot] + word[spot:],
            "".join(changed),
        }
    for word in sorted(heard - set(polish._frequency)):
        allowed = MAX_EDITS + (len(word) >= LONG_WORD)
        found = process.extract(
            word, known, scorer=Levenshtein.distance, score_cutoff=allowed, limit=None
        )
        ranked = sorted(  # ties go to the shorter word, then the one listed first
            (Levenshtein.distance(_sound(word), _sound(f)), e, -polish._frequency[f], len(f), i)
            for f, e, i in found
        )
        polish.word.cache_clear()
        assert polish.word(word) == (known[ranked[0][4]] if ranked else word), word
