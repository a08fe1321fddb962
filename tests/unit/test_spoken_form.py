"""Spoken forms of transcripts keep the timings of the words they were said in."""

from __future__ import annotations

from lbrxvoicepro.text.normalize import normalize_for_speech
from lbrxvoicepro.text.spoken import spoken_form
from lbrxvoicepro.types import Word

WRITTEN = [
    Word("Spotkanie", 0.0, 0.5, 0.9),
    Word("o", 0.5, 0.6, 0.9),
    Word("14:30", 0.6, 1.4, 0.8),
    Word("24.11.2026", 1.5, 2.5, 0.7),
    Word("przy", 2.5, 2.7, 0.9),
    Word("ul.", 2.7, 2.9, 0.9),
    Word("Długiej", 2.9, 3.3, 0.9),
    Word("5.", 3.3, 3.6, 0.9),
]


def _within(words: tuple[Word, ...], start: float, end: float) -> list[str]:
    return [w.text for w in words if start <= w.start < w.end <= end]


def test_numbers_dates_and_abbreviations_said_in_words_each_timed_from_its_own_word() -> None:
    text = " ".join(w.text for w in WRITTEN)
    spoken, words = spoken_form(text, WRITTEN, "pl")
    assert spoken == normalize_for_speech(text, "pl")
    assert [w.text for w in words] == spoken.split()
    assert not any(char.isdigit() for char in spoken)
    assert [w.start for w in words] == sorted(w.start for w in words)
    assert all(w.start < w.end for w in words)
    assert _within(words, 0.6, 1.4) == ["czternastej", "trzydzieści"]
    assert _within(words, 1.5, 2.5) == spoken.split()[4:12]
    assert spoken.split()[11] == "roku"
    assert _within(words, 2.7, 2.9) == ["ulica"]
    assert words[-1] == Word("pięć.", 3.3, 3.6, 0.9)
    assert words[0] == WRITTEN[0]


def test_a_prompt_takes_the_timings_of_the_recognised_words_it_agrees_with() -> None:
    heard = [
        Word("Mam", 0.0, 0.3, 0.9),
        Word("pięć", 0.3, 0.6, 0.9),
        Word("kotów", 0.6, 1.0, 0.9),
        Word("i", 1.0, 1.1, 0.9),
        Word("psa.", 1.1, 1.5, 0.9),
    ]
    spoken, words = spoken_form("Mam 5 kotów i psa.", heard, "pl")
    assert spoken == "Mam pięć kotów i psa."
    assert words == tuple(heard)


def test_tokens_without_a_word_of_their_own_join_a_neighbour() -> None:
    heard = [Word("kotów", 0.6, 1.0, 0.9), Word("psów", 1.2, 1.6, 0.9)]
    spoken, words = spoken_form("Pięć kotów, dwa psów.", heard, "pl")
    assert [w.text for w in words] == spoken.split() == ["Pięć", "kotów,", "dwa", "psów."]
    assert all(0.6 <= w.start < w.end <= 1.6 for w in words)
    assert [w.start for w in words] == sorted(w.start for w in words)


def test_no_words_gives_the_spoken_text_alone() -> None:
    assert spoken_form("Mam 5 lat.", (), "pl") == ("Mam pięć lat.", ())
    assert spoken_form("", (Word("x", 0.0, 1.0, 1.0),), "pl") == ("", ())
