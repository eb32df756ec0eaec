"""Shared fixtures.  Models are loaded once per test session and shared by every test that
needs them (loading Qwen takes seconds; the suite must stay well under 20 minutes)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    return Path(os.environ.get("RTT_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"shared test data not found at {path}")
    return path


def _store_has(*names: str) -> bool:
    from rtt.models.store import ModelStore

    store = ModelStore()
    return all(store.is_ready(n) for n in names)


@pytest.fixture(scope="session")
def default_config():  # type: ignore[no-untyped-def]
    from rtt.config import load_config

    return load_config()


@pytest.fixture(scope="session")
def translator(default_config) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """The default-config Translator with real packaged models (loaded lazily, once)."""
    if not _store_has("qwen2.5-0.5b-instruct-q4km"):
        pytest.skip("packaged MT model not assembled; run `rtt models pull`")
    from rtt.translator import Translator

    t = Translator(default_config)
    yield t
    t.close()


@pytest.fixture(scope="session")
def llm_engine(translator):  # type: ignore[no-untyped-def]
    """The Qwen2.5 0.5B llama.cpp engine of the default config, whatever tier routes to it."""
    return translator.engines.get("qwen-0.5b")


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    """The JavaScript suites' counts (tests/test_js_client.py runs `node --test`): shown even
    when pytest captured the passing tests' output, so `make test` reports every runner."""
    from tests.js_fixtures import NODE_SUMMARIES

    if NODE_SUMMARIES:
        terminalreporter.section("node --test")
        for line in NODE_SUMMARIES:
            terminalreporter.write_line(line)
