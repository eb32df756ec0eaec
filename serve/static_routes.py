"""The demo page's scripts: ``/static/{name}`` from serve/static/ (the page's own modules and its
AudioWorklet) and ``/static/js/{name}`` from clients/js/, the JavaScript client the page runs on,
served from where it lives so there is one copy of it.

Routes, not a mounted folder: names are checked against a pattern (no paths), module scripts
get a JavaScript MIME type (browsers refuse ``<script type=module>`` and ``addModule`` without
one, and Python's mimetypes does not know ``.mjs`` everywhere), and no credential is asked
for: these are public code, loaded by a page that already presented its token.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from rtt.protocol import ProtocolError

router = APIRouter(include_in_schema=False)

PAGE_DIR = Path(__file__).parent / "static"
# An editable install (the only one that ships the page's client) has clients/ next to serve/.
CLIENT_DIR = Path(__file__).resolve().parents[1] / "clients" / "js"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*\.(m?js|css)$")
TYPES = {"js": "text/javascript", "mjs": "text/javascript", "css": "text/css"}


def _file(directory: Path, name: str) -> FileResponse:
    match = NAME.match(name)
    path = directory / name
    if match is None or not path.is_file():
        raise ProtocolError("NOT_FOUND", f"no static file {name[:60]!r}")
    # no-cache: a page reload after an upgrade must not mix new HTML with old modules.
    return FileResponse(path, media_type=TYPES[match.group(1)], headers={"Cache-Control": "no-cache"})


@router.get("/static/js/{name}")
async def client_module(name: str) -> FileResponse:
    return _file(CLIENT_DIR, name)


@router.get("/static/{name}")
async def page_file(name: str) -> FileResponse:
    return _file(PAGE_DIR, name)
