"""``rtt bench serve`` against a running server (plumbing backend: this checks the load driver,
not the models), with Tatoeba text and FLEURS audio from the shared data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rtt.bench.serve import run_serve_bench
from tests.serve_fixtures import SHARED_DATA, running_server, serve_settings


def test_bench_serve_reports_every_level_per_direction(tmp_path: Path) -> None:
    if not (SHARED_DATA / "tatoeba").is_dir() or not (SHARED_DATA / "fleurs").is_dir():
        pytest.skip("shared data not found")
    out = tmp_path / "load.json"
    with running_server() as srv:
        report = run_serve_bench(out, text_levels=[1, 3], speech_levels=[1], sentences_per_session=2,
                                 word_delay_s=0.01, timeout_s=60, url=srv.base_url,
                                 directions=[("es", "en"), ("de", "en")])
    assert json.loads(out.read_text()) == json.loads(json.dumps(report))
    table = out.with_suffix(".md").read_text()
    assert table.count("| de-en |") == 3 and "nothing lost: True" in table
    rows = report["levels"]
    assert [(r["direction"], r["kind"], r["concurrency"]) for r in rows] == [
        ("es-en", "text", 1), ("es-en", "text", 3), ("es-en", "speech", 1),
        ("de-en", "text", 1), ("de-en", "text", 3), ("de-en", "speech", 1)]
    assert report["nothing_lost"] is True
    for r in rows:
        assert r["sessions_sustained"] == r["sessions"] and r["errors"] == 0
        assert r["finals_received"] == r["finals_expected"] == (2 * r["sessions"] if r["kind"] == "text" else 1)
        assert r["client_final_latency_ms"]["p50"] is not None


def test_bench_soak_counts_finals_across_abrupt_drops(tmp_path: Path) -> None:
    """The soak driver against the plumbing server: drops happen, and every owed final arrives once."""
    if not (SHARED_DATA / "tatoeba").is_dir() or not (SHARED_DATA / "fleurs").is_dir():
        pytest.skip("shared data not found")
    from rtt.bench.soak import run_soak

    out = tmp_path / "soak.json"
    with running_server(settings=serve_settings(limits={"concurrent_sessions": 64, "requests_per_minute": 100000})) as srv:
        report = run_soak(0.25, out, text_sessions=6, speech_sessions=1, url=srv.base_url, seed=3, word_delay_s=0.01)
    text, speech = report["rows"]
    assert text["drops"] > 0 and text["resumes"] == text["drops"]
    assert text["finals_owed"] > 20 and text["lost"] == 0 and text["duplicated"] == 0, text
    assert speech["finals_owed"] > 0 and speech["lost"] == 0 and speech["duplicated"] == 0, speech
    assert report["nothing_lost"] is True and "| text | 6 |" in out.with_suffix(".md").read_text()
