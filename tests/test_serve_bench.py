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


def test_compare_batching_reads_the_servers_counters_and_tables_both_arms() -> None:
    """The comparison's bookkeeping on the service's real /metrics exposition (no servers run)."""
    from rtt.bench.batching import markdown, parse_counters
    from serve.metrics import Metrics

    m = Metrics()
    m.mt_steps.inc(7)
    m.mt_steps_coalesced.inc(3)
    m.revisions.labels("skipped", "load").inc(2)
    m.revisions.labels("skipped", "backlog").inc(5)
    m.load_step_downs.labels("refinement").inc()
    m.load_step_downs.labels("partials").inc()
    counters = parse_counters(m.render().decode())
    assert counters == {"mt_steps": 7, "steps_coalesced": 3, "step_downs": 2, "refinements_skipped_load": 2}

    def row(arm: str, p50: float, first: bool) -> dict:
        return {"direction": "de-en", "kind": "text", "concurrency": 16, "arm": arm, "first": first,
                "finals_received": 32, "finals_expected": 32, "lost": 0, "errors": 0,
                "client_final_latency_ms": {"p50": p50, "p95": p50 * 2}, "server_latency_ms": {"p50": p50, "p95": p50 * 2},
                "finals_per_s": 32 / p50, "rss_mb": 3000.0, **counters}

    report = {"settings": {"transport": "WebSocket", "text_data": "t", "sentences_per_session": 2, "word_delay_s": 0.25,
                           "speech_data": "s", "order": "alternating"},
              "machine": {"cpu_count": 2, "date": "d"}, "load_average_before": [0.1], "config": "c",
              "levels": [row("batched", 500.0, True), row("unbatched", 1000.0, False)]}
    md = markdown(report)
    assert "| de-en | text | 16 | batched | yes | 32/32 |" in md
    assert "| de-en | text | 16 | 0.50 | 0.50 | 0.50 | 500 / 1000 | 2.00 |" in md  # batched / unbatched ratios
