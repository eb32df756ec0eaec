"""``rtt eval text``, ``rtt experiment run/leaderboard`` and ``rtt canary`` end to end, with the
dictionary plumbing fixture standing in for the Translator (no model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rtt.cli.main import main
from rtt.eval.summary import METRIC_KEYS
from tests.eval_fixtures import FakeTranslator

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def fake_translator(monkeypatch: pytest.MonkeyPatch) -> None:
    import rtt.translator

    monkeypatch.setattr(rtt.translator, "Translator", lambda config, *a, **kw: FakeTranslator())


def test_eval_text_writes_the_documented_keys(tmp_path: Path, fake_translator: None,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "src.es").write_text("hola a todos\nel gato come pescado\nla casa es grande\n", encoding="utf-8")
    (tmp_path / "ref.en").write_text("hello everyone\nthe cat eats fish\nthe house is big\n", encoding="utf-8")
    out = tmp_path / "out.json"
    rc = main(["eval", "text", "--src", str(tmp_path / "src.es"), "--ref", str(tmp_path / "ref.en"),
               "--from", "es", "--to", "en", "--policy", "wait-3", "--limit", "2", "--json", str(out), "--quiet"])
    assert rc == 0
    doc = json.loads(out.read_text())
    assert set(METRIC_KEYS) <= set(doc)
    assert doc["n_segments"] == 2 and doc["comet"] is None and doc["wer"] is None
    assert doc["policy"] == "wait-3+2t" and doc["pair"] == "es-en"
    # provenance names the engines the default fast tier routes es->en to
    assert doc["config"]["name"] == "default" and set(doc["models"]) & {"apertium", "gemma-270m-stream"}
    table = capsys.readouterr().out
    assert "chrF" in table and "AL" in table and "wait-3+2t" in table


def test_eval_text_reports_bad_input_as_a_structured_error(tmp_path: Path, fake_translator: None,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "src.es").write_text("uno\ndos\n", encoding="utf-8")
    (tmp_path / "ref.en").write_text("one\n", encoding="utf-8")
    rc = main(["eval", "text", "--src", str(tmp_path / "src.es"), "--ref", str(tmp_path / "ref.en"),
               "--from", "es", "--to", "en"])
    assert rc == 2 and "LINE_COUNT_MISMATCH" in capsys.readouterr().err


def test_experiment_run_and_leaderboard(tmp_path: Path, fake_translator: None) -> None:
    (tmp_path / "d.jsonl").write_text(json.dumps(
        {"source": "el gato come pescado", "reference": "the cat eats fish", "src_lang": "es", "tgt_lang": "en"}) + "\n")
    (tmp_path / "s.yaml").write_text("version: 1\nname: s\ndomain: t\nsource: {kind: jsonl, paths: [d.jsonl]}\n"
                                     "pairs: [es-en]\nlimit: null\n")
    (tmp_path / "x.yaml").write_text("version: 1\nname: x\nsuites: [s.yaml]\n")
    out = tmp_path / "reports" / "x"
    assert main(["experiment", "run", str(tmp_path / "x.yaml"), "--out", str(out), "--threads", "1"]) == 0
    doc = json.loads((out / "results.json").read_text())
    assert doc["experiment"]["threads"] == 1 and doc["runs"][0]["chrf"] is not None
    board = tmp_path / "leaderboard.md"
    base = tmp_path / "baseline.json"
    assert main(["experiment", "leaderboard", str(out / "results.json"), "--out", str(board),
                 "--baseline", "x", "--baseline-out", str(base)]) == 0
    assert "| x |" in board.read_text()
    slim = json.loads(base.read_text())
    assert "segments" not in slim["runs"][0]
    # a baseline gates its own experiment
    assert main(["gate", "--baseline", str(base), "--candidate", str(out / "results.json")]) == 0


def test_canary_cli_go(tmp_path: Path, fake_translator: None, capsys: pytest.CaptureFixture[str]) -> None:
    items = [{"id": f"i{i}", "source": s, "reference": s, "src_lang": "es", "tgt_lang": "en"}
             for i, s in enumerate(["el gato come pescado", "la casa es grande", "hola a todos"] * 8)]
    (tmp_path / "d.jsonl").write_text("\n".join(json.dumps(i) for i in items) + "\n")
    (tmp_path / "s.yaml").write_text("version: 1\nname: s\ndomain: t\nsource: {kind: jsonl, paths: [d.jsonl]}\n"
                                     "pairs: [es-en]\nlimit: null\n")
    out = tmp_path / "canary.json"
    config = str(REPO / "rtt" / "data" / "default.yaml")
    rc = main(["canary", "--baseline", config, "--candidate", str(REPO / "experiments" / "local-agreement.yaml"),
               "--share", "0.4", "--suite", str(tmp_path / "s.yaml"), "--no-qe", "--json", str(out)])
    text = capsys.readouterr().out
    doc = json.loads(out.read_text())
    assert rc == (0 if doc["go"] else 1)
    assert "canary (share 0.4)" in text and "final_latency_ms_p95" in text
    assert doc["candidate"]["name"] == "local-agreement" and doc["baseline"]["metrics"]["n_segments"] > 0
    assert {s["arm"] for s in doc["segments"]} == {"baseline", "candidate"}
