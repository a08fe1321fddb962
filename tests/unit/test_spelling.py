"""Words Whisper misspells, put right from wordfreq's word list (the real list, no stand-in)."""

from __future__ import annotations

import pytest

from lbrxvoicepro.text.spelling import speller


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


def test_a_language_without_a_word_list_has_no_speller() -> None:
    assert speller("xx") is None
