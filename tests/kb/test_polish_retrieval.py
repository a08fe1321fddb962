"""Polish questions find their passages although the words are inflected differently."""

from __future__ import annotations

from pathlib import Path

import pytest

from lbrxvoicepro.kb import KnowledgeBase
from lbrxvoicepro.kb.analyzer import Analyzer, fold
from tests.kb.polish_pairs import PASSAGES, QUERIES


@pytest.fixture
def polish_kb(kb: KnowledgeBase, tmp_path: Path) -> KnowledgeBase:
    paths = []
    for key, text in PASSAGES.items():
        paths.append(tmp_path / f"{key}.txt")
        paths[-1].write_text(text, encoding="utf-8")
    report = kb.add(paths)
    assert len(report.added) == len(PASSAGES), report
    return kb


def test_there_are_enough_pairs() -> None:
    assert len(QUERIES) >= 20
    assert {key for _, key in QUERIES} <= set(PASSAGES)


@pytest.mark.parametrize(("query", "key"), QUERIES, ids=[key for _, key in QUERIES])
def test_query_finds_its_passage_first(polish_kb: KnowledgeBase, query: str, key: str) -> None:
    hits = polish_kb.search(query, 3)
    assert Path(hits[0].chunk.source).stem == key, [h.chunk.text for h in hits]


def test_inflected_city_names_share_a_term() -> None:
    analyzer = Analyzer("polish")
    for forms in (
        ["Kraków", "Krakowie", "Krakowa", "Krakowem"],
        ["Gdańsk", "Gdańsku", "Gdańska"],
        ["Łódź", "Łodzi"],
        ["Wrocław", "Wrocławiu"],
        ["Poznań", "Poznaniu"],
    ):
        stems = {analyzer.terms(form)[0] for form in forms}
        assert len(stems) == 1, (forms, stems)


def test_folding_removes_polish_diacritics() -> None:
    assert fold("Zażółć GĘŚLĄ jaźń Łódź") == "zazolc gesla jazn lodz"
