"""Experiments: spec loading and config merging, a run on the plumbing fixture into a report
folder (results.json, README, plots), and the leaderboard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rtt.errors import ConfigError
from rtt.eval.experiment import deep_merge, experiment_config, load_experiment, run_experiment
from rtt.eval.report import leaderboard, write_report
from rtt.eval.summary import METRIC_KEYS
from tests.eval_fixtures import FakeTranslator

REPO = Path(__file__).resolve().parents[1]

ITEMS = [
    {"id": "a", "source": "hola a todos", "reference": "hello everyone", "src_lang": "es", "tgt_lang": "en"},
    {"id": "b", "source": "el gato come pescado", "reference": "the cat eats fish", "src_lang": "es",
     "tgt_lang": "en", "must_contain": ["cat"]},
    {"id": "c", "source": "la casa es grande", "reference": "the house is big", "src_lang": "es", "tgt_lang": "en"},
]


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    (tmp_path / "data.jsonl").write_text("\n".join(json.dumps(i) for i in ITEMS) + "\n", encoding="utf-8")
    (tmp_path / "tiny.yaml").write_text(
        "version: 1\nname: tiny\ndomain: test\nsource: {kind: jsonl, paths: [data.jsonl]}\npairs: [es-en]\n"
        "limit: null\ntolerances: {chrf_drop: 1.0}\n", encoding="utf-8")
    (tmp_path / "exp.yaml").write_text(
        "version: 1\nname: sweep\nsuites: [tiny.yaml]\npolicy: [wait-1, wait-3]\nstabilization: aggressive\n"
        "config: {vad: {min_silence_ms: 300}}\n", encoding="utf-8")
    return tmp_path


def test_every_committed_experiment_loads_and_builds_its_config() -> None:
    paths = sorted((REPO / "experiments").glob("*.yaml"))
    names = {p.stem for p in paths}
    assert {"default", "accurate-finals", "rule-based"} <= names
    for p in paths:
        spec = load_experiment(p)
        config, _ = experiment_config(spec)
        assert config.name == spec.name
        for s in spec.suites:
            assert spec.resolve(s).is_file(), s


def test_overrides_merge_into_the_base_config(tiny: Path) -> None:
    spec = load_experiment(tiny / "exp.yaml")
    config, base = experiment_config(spec)
    assert config.vad.min_silence_ms == 300 and config.vad.backend == "silero"
    assert base.endswith("default.yaml")
    assert deep_merge({"a": {"b": 1, "c": 2}}, {"a": {"b": 3}}) == {"a": {"b": 3, "c": 2}}


def test_invalid_experiment_names_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nname: x\nsuites: []\nstabilization: extreme\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_experiment(bad)
    assert "stabilization" in err.value.message
    bad.write_text("version: 1\nname: x\nsuites: []\nconfig: {mt: {default_tier: 3}}\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        experiment_config(load_experiment(bad))


def test_run_writes_a_report_folder(tiny: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")  # the plots are part of what this test checks
    spec = load_experiment(tiny / "exp.yaml")
    doc = run_experiment(spec, FakeTranslator(), quiet=True)
    assert [r["policy"] for r in doc["runs"]] == ["wait-1", "wait-3"]
    for r in doc["runs"]:
        assert set(METRIC_KEYS) <= set(r)
        assert r["n_segments"] == 3 and r["check_pass_rate"] == 1.0
    # a larger k lags more
    assert doc["runs"][0]["al"] < doc["runs"][1]["al"]
    assert doc["experiment"]["policies"] == ["wait-1", "wait-3"] and doc["config"]["name"] == "sweep"
    out = write_report(doc, tmp_path / "reports" / "sweep")
    assert json.loads((out / "results.json").read_text())["runs"][0]["segments"]
    readme = (out / "README.md").read_text()
    assert "| tiny | es-en | wait-1 |" in readme and "quality_latency.png" in readme
    pytest.importorskip("matplotlib")
    assert (out / "quality_latency.png").stat().st_size > 1000
    assert (out / "latency_hist.png").stat().st_size > 1000


def test_limit_argument_caps_segments(tiny: Path) -> None:
    doc = run_experiment(load_experiment(tiny / "exp.yaml"), FakeTranslator(), limit=2, quiet=True)
    assert all(r["n_segments"] == 2 for r in doc["runs"]) and doc["experiment"]["limit"] == 2


def test_leaderboard_ranks_by_chrf(tiny: Path) -> None:
    spec = load_experiment(tiny / "exp.yaml")
    good = run_experiment(spec, FakeTranslator(), quiet=True)
    poor = run_experiment(spec, FakeTranslator(table={}), quiet=True)  # copies the source
    poor["experiment"]["name"] = "copy"
    text = leaderboard([poor, good], note="limit 3")
    ranking = text.split("## Per direction", 1)[0]
    rows = [ln for ln in ranking.splitlines() if ln.startswith("| sweep") or ln.startswith("| copy")]
    assert rows[0].startswith("| sweep") and rows[-1].startswith("| copy")
    assert "chrF es-en" in text and "limit 3" in text


def test_leaderboard_can_rank_on_common_directions(tiny: Path) -> None:
    doc = run_experiment(load_experiment(tiny / "exp.yaml"), FakeTranslator(), quiet=True)
    other = json.loads(json.dumps(doc))
    other["experiment"]["name"] = "other"
    for r in other["runs"]:
        r["pair"] = "en-es"
    text = leaderboard([doc, other], pairs=["es-en"])
    assert "| sweep" in text and "| other" not in text and "chrF en-es" not in text
