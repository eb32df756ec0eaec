"""docs/api.md lists every route the app serves, and no route it does not serve."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from serve.app import create_app

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"
ROW = re.compile(r"^\| (GET|POST|DELETE|PUT|PATCH|WS) \| `([^`]+)` \|", re.M)
# FastAPI's own helper page for the OpenAPI UI's OAuth flow: not part of the API.
INTERNAL = {("GET", "/docs/oauth2-redirect")}


def _walk(routes: Iterable[Any]) -> Iterator[Any]:
    for route in routes:
        nested = getattr(route, "original_router", None)
        yield from _walk(nested.routes) if nested is not None else (route,)


def app_routes() -> set[tuple[str, str]]:
    found = set()
    for route in _walk(create_app().routes):
        methods = getattr(route, "methods", None) or {"WS"}
        found |= {(m, route.path) for m in methods if m != "HEAD"}
    return found - INTERNAL


def test_the_route_table_matches_the_app() -> None:
    documented = set(ROW.findall(DOC.read_text()))
    served = app_routes()
    assert documented == served, {"undocumented": sorted(served - documented),
                                  "documented but not served": sorted(documented - served)}
