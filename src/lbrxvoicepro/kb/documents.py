"""Documents to located text sections: txt, md, html, pdf, docx.

Each reader returns sections that carry where they came from (a page, a heading, a line), so an
answer can cite its source precisely. Anything unreadable raises ``DocumentError`` naming the
file and the reason; nothing here guesses at binary data.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lbrxvoicepro.errors import DocumentError

SUFFIXES = {".txt": "text", ".md": "markdown", ".markdown": "markdown", ".html": "html"}
SUFFIXES |= {".htm": "html", ".pdf": "pdf", ".docx": "docx"}


@dataclass(frozen=True)
class Section:
    text: str
    location: str
    """Where in the document: "page 3", "§ Installation", "line 40"."""


def read_document(path: Path, max_bytes: int) -> list[Section]:
    """The text sections of ``path``; raises ``DocumentError`` when it cannot be used."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        supported = ", ".join(sorted(SUFFIXES))
        raise DocumentError(str(path), f"unsupported file type (supported: {supported})")
    try:
        size = path.stat().st_size
    except OSError as error:
        raise DocumentError(str(path), f"cannot read: {error.strerror or error}") from error
    if size == 0:
        raise DocumentError(str(path), "empty file")
    if size > max_bytes:
        raise DocumentError(
            str(path),
            f"{size / 2**20:.1f} MiB is over the {max_bytes / 2**20:.0f} MiB limit "
            "(raise kb.max_file_mb to ingest it)",
        )
    sections = [s for s in READERS[kind](path) if s.text.strip()]
    if not sections:
        raise DocumentError(str(path), "no text found")
    return sections


def _decode(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data[:65536]:
        raise DocumentError(str(path), "binary data, not text")
    for encoding in ("utf-8-sig", "cp1250"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        controls = sum(1 for c in text[:65536] if ord(c) < 32 and c not in "\t\n\r\f")
        if controls > 0.01 * min(len(text), 65536):
            raise DocumentError(str(path), "binary data, not text")
        return text
    raise DocumentError(str(path), "not UTF-8 or Windows-1250 text")


def _read_text(path: Path) -> list[Section]:
    sections, line = [], 1
    for paragraph in _decode(path).split("\n\n"):
        if paragraph.strip():
            sections.append(Section(" ".join(paragraph.split()), f"line {line}"))
        line += paragraph.count("\n") + 2
    return sections


def _read_markdown(path: Path) -> list[Section]:
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(_decode(path))
    sections: list[Section] = []
    parts: list[str] = []
    heading, in_heading = "", False
    for token in tokens:
        if token.type == "heading_open":
            sections.append(Section(" ".join(parts), _heading_location(heading)))
            parts, in_heading = [], True
        elif token.type == "heading_close":
            in_heading = False
        elif token.type in ("inline", "fence", "code_block"):
            text = "".join(
                " " if child.type in ("softbreak", "hardbreak") else child.content
                for child in token.children or [token]
                if child.type
                in (
                    "text",
                    "code_inline",
                    "fence",
                    "code_block",
                    "inline",
                    "softbreak",
                    "hardbreak",
                )
            )
            if in_heading:
                heading = text
                parts.append(text + ".")
            else:
                parts.append(text)
    sections.append(Section(" ".join(parts), _heading_location(heading)))
    return sections


def _read_html(path: Path) -> list[Section]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(path), "html.parser")
    for hidden in soup(["script", "style", "noscript", "template", "nav"]):
        hidden.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    sections: list[Section] = []
    parts: list[str] = []
    heading = title
    body = soup.body or soup
    for element in body.find_all(["h1", "h2", "h3", "h4", "p", "li", "td", "pre", "blockquote"]):
        if element.find_parent(["p", "li", "td", "pre", "blockquote"]):
            continue
        text = " ".join(element.get_text(" ", strip=True).split())
        if element.name in ("h1", "h2", "h3", "h4"):
            sections.append(Section(" ".join(parts), _heading_location(heading)))
            heading, parts = text, [text + "."]
        elif text:
            parts.append(text)
    sections.append(Section(" ".join(parts), _heading_location(heading)))
    if not any(s.text.strip() for s in sections):
        text = " ".join(body.get_text(" ", strip=True).split())
        sections.append(Section(text, _heading_location(title)))
    return sections


def _read_pdf(path: Path) -> list[Section]:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            raise DocumentError(str(path), "encrypted PDF (decrypt it first)")
        pages = [page.extract_text() or "" for page in reader.pages]
    except DocumentError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, RecursionError) as error:
        raise DocumentError(str(path), f"corrupt or unreadable PDF ({error})") from error
    sections = [
        Section(" ".join(text.split()), f"page {number}")
        for number, text in enumerate(pages, start=1)
    ]
    if not any(s.text for s in sections):
        raise DocumentError(str(path), "the PDF has no text layer (scanned pages need OCR first)")
    return sections


def _read_docx(path: Path) -> list[Section]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise DocumentError(str(path), f"corrupt or unreadable DOCX ({error})") from error
    sections: list[Section] = []
    parts: list[str] = []
    heading = ""
    for paragraph in document.paragraphs:
        text = " ".join(paragraph.text.split())
        style = paragraph.style.name if paragraph.style is not None else ""
        if style.startswith(("Heading", "Title")) and text:
            sections.append(Section(" ".join(parts), _heading_location(heading)))
            heading, parts = text, [text + "."]
        elif text:
            parts.append(text)
    sections.append(Section(" ".join(parts), _heading_location(heading)))
    for table in document.tables:
        rows = [" | ".join(cell.text.strip() for cell in row.cells) for row in table.rows]
        sections.append(Section(" ".join(rows), "table"))
    return sections


def _heading_location(heading: str) -> str:
    return f"§ {heading}" if heading else "start"


READERS: dict[str, Callable[[Path], list[Section]]] = {
    "text": _read_text,
    "markdown": _read_markdown,
    "html": _read_html,
    "pdf": _read_pdf,
    "docx": _read_docx,
}
