"""Secrets never reach the logs: credentials and session ids in query strings are masked."""

from __future__ import annotations

import logging
import re

SECRET_PARAMETERS = re.compile(r"(?i)([?&](?:token|session|api_key|key)=)[^&\s\"]*")


def redact(text: str) -> str:
    return SECRET_PARAMETERS.sub(r"\1***", text)


class RedactSecrets(logging.Filter):
    """On every handler's logger: uvicorn's access log puts the request path, query string
    included (WebSocket ``?token=``), in the record's arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install() -> None:
    for name in ("uvicorn.access", "uvicorn.error", "uvicorn"):
        logging.getLogger(name).addFilter(RedactSecrets())
