"""A resumed ingest decodes the same groups as an uninterrupted one (a batch's make-up can
change a transcript)."""

from __future__ import annotations

from pathlib import Path

from lbrxvoicepro.dataset.builder import groups, unfinished_groups

FILES = [Path(f"{index:02}.wav") for index in range(10)]


def test_a_group_with_one_pending_file_is_decoded_whole_and_finished_groups_are_not() -> None:
    pending = {FILES[5], FILES[9]}  # groups of four: 4-7 and 8-9 are unfinished, 0-3 is done
    decode = unfinished_groups(FILES, pending, 4)
    assert decode == FILES[4:]
    assert groups(decode, 4) == [FILES[4:8], FILES[8:]]


def test_nothing_pending_decodes_nothing_and_everything_pending_decodes_all() -> None:
    assert unfinished_groups(FILES, set(), 4) == []
    assert unfinished_groups(FILES, set(FILES), 4) == FILES
