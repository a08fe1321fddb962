"""Streamed answers become speech early: first clause at once, sentences as they end."""

from __future__ import annotations

from lbrxvoicepro.text.sentences import SPOKEN_MAX_CHARS, speakable


def _stream(answer: str, step: int = 3) -> list[str]:
    """Feed ``answer`` a few characters at a time, as an LLM streams it; what gets spoken."""
    spoken: list[str] = []
    text = ""
    for start in range(0, len(answer), step):
        ready, text = speakable(text + answer[start : start + step], bool(spoken))
        spoken += ready
    return spoken + ([text.strip()] if text.strip() else [])


def test_the_first_clause_is_spoken_before_its_sentence_ends() -> None:
    ready, rest = speakable("Biuro jest czynne od poniedziałku, a w sobo", started=False)
    assert ready == ["Biuro jest czynne od poniedziałku,"]
    assert rest == "a w sobo"
    assert speakable("Biuro jest czynne od poniedziałku, a w sobo", started=True) == (
        [],
        "Biuro jest czynne od poniedziałku, a w sobo",
    )


def test_a_short_opening_before_a_comma_waits_for_more() -> None:
    assert speakable("Tak, biuro", started=False) == ([], "Tak, biuro")


def test_streamed_pieces_keep_every_word_and_the_spaces_between_them() -> None:
    answer = (
        "Dzień dobry, w czym mogę pomóc? Biuro jest czynne od 8:00 do 16:00, "
        "np. w środę. Zapraszamy ul. Długą 5."
    )
    pieces = _stream(answer)
    assert pieces[0] == "Dzień dobry, w czym mogę pomóc?"
    assert " ".join(pieces).split() == answer.split()
    assert "np. w środę." in " ".join(pieces)


def test_a_sentence_without_a_stop_is_spoken_in_bounded_pieces() -> None:
    answer = " ".join(["słowo"] * 200)
    pieces = _stream(answer, step=7)
    assert len(pieces) > 5
    assert all(len(p) <= SPOKEN_MAX_CHARS for p in pieces)
    assert " ".join(pieces).split() == answer.split()
