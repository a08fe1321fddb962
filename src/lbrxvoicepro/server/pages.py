"""Browser pages served by ``serve``: ``/talk``, a voice conversation over
``/v1/stream/converse``; ``/studio``, prompted recording of a dataset, and ``/studio/review``,
its review (docs/studio.md). The pages hold no data, so they load without credentials; what they
do goes through the API with the key or token the user enters."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

router = APIRouter(include_in_schema=False)

FOLDER = Path(__file__).parent / "pages"
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    # only this server's own scripts, and connections back to it (WebSocket included)
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
    "media-src 'self' blob:; frame-ancestors 'none'",
}


def _page(name: str) -> FileResponse:
    path = FOLDER / name
    if "/" in name or not path.is_file() or path.suffix not in MEDIA_TYPES:
        raise HTTPException(404, f"no page named {name!r}")
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers=HEADERS)


@router.get("/talk")
async def talk() -> FileResponse:
    return _page("talk.html")


@router.get("/studio")
async def studio() -> FileResponse:
    return _page("studio.html")


@router.get("/studio/review")
async def studio_review() -> FileResponse:
    return _page("review.html")


@router.get("/pages/{name}")
async def asset(name: str) -> FileResponse:
    """The pages' scripts (an AudioWorklet must be loaded from a URL of its own)."""
    return _page(name)
