"""Small real documents for the readers: a two-page PDF, a DOCX, HTML and Markdown."""

from __future__ import annotations

from pathlib import Path


def write_pdf(path: Path, pages: list[str]) -> Path:
    """A minimal valid PDF, one line of Helvetica text per page (ASCII)."""
    kids = " ".join(f"{4 + 2 * n} 0 R" for n in range(len(pages)))
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for number, text in enumerate(pages):
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET"
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {5 + 2 * number} 0 R "
            "/Resources << /Font << /F1 3 0 R >> >> >>"
        )
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
    body, offsets = b"%PDF-1.4\n", []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(body))
        body += f"{number} 0 obj\n{content}\nendobj\n".encode()
    xref = len(body)
    body += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    body += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    trailer = f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    path.write_bytes(body + trailer.encode())
    return path


def write_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("Godziny otwarcia", level=1)
    document.add_paragraph("Biuro jest czynne od poniedziałku do piątku, od ósmej do szesnastej.")
    document.add_heading("Kontakt", level=1)
    document.add_paragraph("W sprawach pilnych prosimy dzwonić na numer alarmowy biura.")
    document.save(str(path))
    return path


HTML = """<!doctype html><html><head><title>Przewodnik</title><style>p{color:red}</style>
<script>var hidden = "skrypt";</script></head><body><nav>menu menu</nav>
<h1>Zwiedzanie</h1><p>Muzeum Narodowe jest otwarte we wtorki bezpłatnie.</p>
<h2>Bilety</h2><ul><li>Bilet ulgowy kosztuje dziesięć złotych.</li></ul></body></html>"""

MARKDOWN = """# Instalacja

Uruchom `make demo`, aby zobaczyć
**cały** produkt.

## Serwer

Serwer startuje poleceniem [serve](https://example.invalid).
"""
