"""What clients send, made safe before it reaches a file name or the UTF-8 encoder."""

from __future__ import annotations

import unicodedata
from pathlib import PurePosixPath
from typing import Annotated

from pydantic import AfterValidator

MAX_NAME_BYTES = 200


def safe_filename(name: str | None, fallback: str) -> str:
    """A client's file name as a plain name for messages and storage: the last path part,
    control characters (NUL included) removed, never ``.`` or ``..``, at most 200 bytes
    (its suffix kept)."""
    base = PurePosixPath((name or "").replace("\\", "/")).name
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip()
    if base in ("", ".", ".."):
        return fallback
    if len(base.encode()) > MAX_NAME_BYTES:
        suffix = PurePosixPath(base).suffix[:16]
        stem = base[: len(base) - len(suffix)]
        while len((stem + suffix).encode()) > MAX_NAME_BYTES:
            stem = stem[:-1]
        base = stem + suffix
    return base


def _encodable(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError("not valid Unicode text (a lone surrogate)") from error
    return text


Text = Annotated[str, AfterValidator(_encodable)]
"""A string that can be written as UTF-8: JSON's ``\\ud800`` escapes are refused with 422."""
