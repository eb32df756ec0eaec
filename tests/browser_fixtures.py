"""What the headless Chromium tests share: Debian's chromium (never a downloaded browser), its
flags, and the demo page opened with a token and a language pair."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("RTT_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

needs_chromium = pytest.mark.skipif(not (Path(CHROMIUM).exists() or shutil.which("chromium")),
                                    reason="chromium is not installed (apt-get install -y chromium)")


def launch_chromium(extra_args: Sequence[str] = ()) -> Iterator[Any]:
    """A module fixture's body: one browser for the module, closed after it."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
                              args=[*ARGS, *extra_args], headless=True)
        yield b
        b.close()


def open_demo(browser: Any, base_url: str, token: str, source: str = "es", target: str = "en") -> tuple[Any, list[str]]:
    """The page at / with its language lists loaded and the pair chosen; page errors are collected."""
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base_url}/?token={token}")
    page.wait_for_function("document.querySelectorAll('#target option').length > 3")
    page.select_option("#source", source)
    page.select_option("#target", target)
    return page, errors
