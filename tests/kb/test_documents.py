"""Every supported format is read with locations; bad files fail with a clear reason."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from lbrxvoicepro.errors import DocumentError
from lbrxvoicepro.kb.chunking import chunk_sections
from lbrxvoicepro.kb.documents import Section, read_document
from tests.kb.documents import HTML, MARKDOWN, write_docx, write_pdf

LIMIT = 25 * 2**20


def test_pdf_pages_are_locations(tmp_path: Path) -> None:
    sections = read_document(
        write_pdf(tmp_path / "a.pdf", ["Trains leave hourly.", "Buses too."]), LIMIT
    )
    assert [(s.text, s.location) for s in sections] == [
        ("Trains leave hourly.", "page 1"),
        ("Buses too.", "page 2"),
    ]


def test_docx_headings_are_locations(tmp_path: Path) -> None:
    sections = read_document(write_docx(tmp_path / "a.docx"), LIMIT)
    assert [s.location for s in sections] == ["§ Godziny otwarcia", "§ Kontakt"]
    assert "od ósmej do szesnastej" in sections[0].text


def test_html_drops_scripts_styles_and_navigation(tmp_path: Path) -> None:
    path = tmp_path / "a.html"
    path.write_text(HTML, encoding="utf-8")
    sections = read_document(path, LIMIT)
    text = " ".join(s.text for s in sections)
    assert "Muzeum Narodowe" in text and "dziesięć złotych" in text
    assert "skrypt" not in text and "color" not in text and "menu" not in text
    assert [s.location for s in sections] == ["§ Zwiedzanie", "§ Bilety"]


def test_markdown_keeps_text_not_markup(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text(MARKDOWN, encoding="utf-8")
    sections = read_document(path, LIMIT)
    assert sections[0] == Section(
        "Instalacja. Uruchom make demo, aby zobaczyć cały produkt.", "§ Instalacja"
    )
    assert "https://" not in sections[1].text


def test_text_paragraphs_carry_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("Pierwszy akapit.\n\nDrugi\nakapit.\n\nTrzeci.", encoding="utf-8")
    assert [s.location for s in read_document(path, LIMIT)] == ["line 1", "line 3", "line 6"]


def test_windows_1250_text_is_read(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes("Zażółć gęślą jaźń.".encode("cp1250"))
    assert read_document(path, LIMIT)[0].text == "Zażółć gęślą jaźń."


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty file"),
        ("junk.txt", os.urandom(4096), "binary data"),
        ("junk.md", b"\x00\x01\x02" * 100, "binary data"),
        ("truncated.pdf", b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog", "PDF"),
        ("random.pdf", os.urandom(2048), "PDF"),
        ("random.docx", os.urandom(2048), "corrupt or unreadable DOCX"),
        ("image.png", b"\x89PNG\r\n", "unsupported file type"),
        ("blank.html", b"<html><body>   </body></html>", "no text found"),
    ],
)
def test_bad_files_fail_with_a_reason(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DocumentError) as raised:
        read_document(path, LIMIT)
    assert reason in raised.value.reason
    assert str(path) in str(raised.value)


def test_a_pdf_without_text_says_so(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="no text layer"):
        read_document(write_pdf(tmp_path / "scan.pdf", [""]), LIMIT)


def test_a_file_over_the_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    with open(path, "wb") as handle:
        handle.truncate(50 * 2**20)
    with pytest.raises(DocumentError, match=r"50.0 MiB is over the 25 MiB limit"):
        read_document(path, LIMIT)


def test_chunks_keep_sentences_whole_and_overlap() -> None:
    sentences = [f"To jest zdanie numer {n} o pewnej rzeczy." for n in range(40)]
    chunks = list(chunk_sections([Section(" ".join(sentences), "page 1")], 300, 100))
    assert len(chunks) > 3
    for chunk in chunks:
        assert len(chunk.text) <= 300 and chunk.location == "page 1"
        assert chunk.text.endswith(".") and chunk.text.startswith("To jest")
    for before, after in itertools.pairwise(chunks):
        last_sentence = before.text.rsplit(". ", 1)[-1]
        first_sentence = after.text.split(". ", 1)[0] + "."
        assert last_sentence in after.text and first_sentence in before.text
