"""``rtt eval text``, ``rtt experiment run/leaderboard`` and ``rtt canary`` end to end, with the
dictionary plumbing fixture standing in for the Translator (no model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rtt.cli.main import main
from rtt.eval.summary import METRIC_KEYS
from tests.eval_fixtures import FakeTranslator
from tests.speech_fixtures import silence, write_wav

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def fake_translator(monkeypatch: pytest.MonkeyPatch) -> None:
    import rtt.translator

    monkeypatch.setattr(rtt.translator, "Translator", lambda config, *a, **kw: FakeTranslator())


def _suite(tmp_path: Path, pairs: list[tuple[str, str]]) -> Path:
    """A one-direction (es-en) JSONL suite of (source, reference) pairs, written beside the test."""
    items = [{"id": f"i{i}", "source": src, "reference": ref, "src_lang": "es", "tgt_lang": "en"}
             for i, (src, ref) in enumerate(pairs)]
    (tmp_path / "d.jsonl").write_text("\n".join(json.dumps(i) for i in items) + "\n")
    (tmp_path / "s.yaml").write_text("version: 1\nname: s\ndomain: t\nsource: {kind: jsonl, paths: [d.jsonl]}\n"
                                     "pairs: [es-en]\nlimit: null\n")
    return tmp_path / "s.yaml"


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
    _suite(tmp_path, [("el gato come pescado", "the cat eats fish")])
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
    _suite(tmp_path, [(s, s) for s in ["el gato come pescado", "la casa es grande", "hola a todos"] * 8])
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


@pytest.mark.parametrize("realtime", [False, True])
def test_eval_speech_cli_on_user_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_translator: None,
                                       capsys: pytest.CaptureFixture[str], realtime: bool) -> None:
    """``rtt eval speech`` on arbitrary files: a listing, transcripts, references; the cascade
    engine with the scripted ASR and dictionary MT plumbing fixtures (no model)."""
    import rtt.eval.speech_runner
    from tests.eval_fixtures import ScriptedAsr

    said = "hola a todos y buenas tardes"
    monkeypatch.setattr(rtt.eval.speech_runner, "load_asr", lambda config: ScriptedAsr(said))
    write_wav(tmp_path / "a.wav", silence(3.0))
    write_wav(tmp_path / "b.wav", silence(2.0))
    (tmp_path / "clips.txt").write_text("a.wav\nb.wav\n", encoding="utf-8")
    (tmp_path / "tr.es").write_text(f"{said}\nhola a todos\n", encoding="utf-8")
    (tmp_path / "ref.en").write_text("hello everyone and good afternoon\nhello everyone\n", encoding="utf-8")
    out = tmp_path / "speech.json"
    args = ["eval", "speech", "--audio-list", str(tmp_path / "clips.txt"), "--transcripts", str(tmp_path / "tr.es"),
            "--refs", str(tmp_path / "ref.en"), "--from", "es", "--to", "en", "--policy", "wait-1",
            "--engine", "cascade", "--step-ms", "1000", "--json", str(out), "--quiet"]
    assert main(args if realtime else [*args, "--no-realtime"]) == 0
    doc = json.loads(out.read_text())
    assert set(METRIC_KEYS) <= set(doc)
    assert doc["realtime"] is realtime and doc["modality"] == "speech" and doc["n_segments"] == 2
    assert doc["n_errors"] == 0 and doc["wer"] is not None and doc["chrf"] is not None
    assert doc["comet"] is None and doc["al"] is not None and doc["al"] > 100  # ms of audio
    assert doc["segments"][0]["hypothesis"].startswith("hello")
    table = capsys.readouterr().out
    assert "WER" in table and "COMET: not configured" in table


def test_eval_speech_cli_rejects_a_short_transcript_file(tmp_path: Path, fake_translator: None,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    write_wav(tmp_path / "a.wav", silence(1.0))
    (tmp_path / "clips.txt").write_text("a.wav\na.wav\n", encoding="utf-8")
    (tmp_path / "tr.es").write_text("hola\n", encoding="utf-8")
    rc = main(["eval", "speech", "--audio-list", str(tmp_path / "clips.txt"), "--transcripts",
               str(tmp_path / "tr.es"), "--from", "es", "--to", "en"])
    assert rc == 2 and "LINE_COUNT_MISMATCH" in capsys.readouterr().err


def test_reports_say_comet_is_not_configured(tmp_path: Path, fake_translator: None,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RTT_COMET_CHECKPOINT", raising=False)
    _suite(tmp_path, [("el gato come pescado", "the cat eats fish"), ("la casa es grande", "the house is big")])
    (tmp_path / "x.yaml").write_text("version: 1\nname: x\nsuites: [s.yaml]\npolicy: [wait-1, wait-3]\n")
    out = tmp_path / "x"
    assert main(["experiment", "run", str(tmp_path / "x.yaml"), "--out", str(out)]) == 0
    readme = (out / "README.md").read_text()
    assert "COMET: not configured" in readme and "| not configured |" in readme
    doc = json.loads((out / "results.json").read_text())
    assert all(r["comet"] is None and r["final_latency_ms_p99"] is not None for r in doc["runs"])
    board = tmp_path / "board.md"
    assert main(["experiment", "leaderboard", str(out / "results.json"), "--out", str(board)]) == 0
    text = board.read_text()
    assert "COMET: not configured" in text
    # per direction: BLEU, AL, LAAL and latency for each policy, not only chrF
    per_dir = text.split("### es-en", 1)[1].split("## Provenance", 1)[0]
    header = per_dir.strip().splitlines()[0]
    for col in ("chrF", "BLEU", "COMET", "AL", "LAAL", "final p50 ms"):
        assert f"| {col} |" in header
    assert per_dir.count("| x |") == 2


def test_canary_output_labels_qe_and_shadow_pairs_the_arms(tmp_path: Path, fake_translator: None,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    items = [(s, s) for s in ["el gato come pescado", "la casa es grande", "hola a todos"] * 3]
    _suite(tmp_path, items)
    out = tmp_path / "canary.json"
    config = str(REPO / "rtt" / "data" / "default.yaml")
    main(["canary", "--baseline", config, "--candidate", config, "--share", "0.1", "--shadow",
          "--suite", str(tmp_path / "s.yaml"), "--no-qe", "--json", str(out)])
    text = capsys.readouterr().out
    doc = json.loads(out.read_text())
    assert "qe_similarity (*)" in text and "not a quality metric" in text
    assert "not a quality metric" in doc["qe_similarity_label"] and doc["shadow"] is True
    assert doc["baseline"]["metrics"]["n_segments"] == doc["candidate"]["metrics"]["n_segments"] == len(items)
    assert doc["go"] is True
