"""The notebooks execute top to bottom (nbclient) on tiny results made with plumbing fixtures;
they are thin readers of `rtt` results, so what they show is what the harness measured."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

REPO = Path(__file__).resolve().parents[1]
ITEMS = [
    {"id": "a", "source": "hola a todos y buenas tardes", "reference": "hello everyone and good afternoon",
     "src_lang": "es", "tgt_lang": "en"},
    {"id": "b", "source": "el gato come pescado", "reference": "the cat eats fish", "src_lang": "es", "tgt_lang": "en"},
]


@pytest.fixture(scope="module")
def tiny_reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from rtt.eval.experiment import load_experiment, run_experiment
    from rtt.eval.report import write_report
    from rtt.eval.runs import run_record
    from rtt.eval.segments import EvalSegment
    from rtt.eval.speech_runner import run_speech_segment
    from tests.eval_fixtures import FakeTranslator, ScriptedAsr

    root = tmp_path_factory.mktemp("nb")
    (root / "data.jsonl").write_text("\n".join(json.dumps(i) for i in ITEMS) + "\n", encoding="utf-8")
    (root / "tiny.yaml").write_text("version: 1\nname: tiny\ndomain: t\nsource: {kind: jsonl, paths: [data.jsonl]}\n"
                                    "pairs: [es-en]\nlimit: null\n", encoding="utf-8")
    (root / "sweep.yaml").write_text("version: 1\nname: sweep\nsuites: [tiny.yaml]\nstabilization: aggressive\n"
                                     "policy: [wait-1, wait-2, local-agreement-2, full-sentence]\n", encoding="utf-8")
    doc = run_experiment(load_experiment(root / "sweep.yaml"), FakeTranslator(), quiet=True)
    write_report(doc, root / "reports" / "sweep")
    from rtt.eval.cascade import SpeechCascade

    seg = EvalSegment("speech:es-en:clip-1", ITEMS[0]["source"], ITEMS[0]["reference"], "es", "en",
                      audio=Path("clip.ogg"), transcript=ITEMS[0]["source"])
    cascade = SpeechCascade(ScriptedAsr(seg.source), FakeTranslator(), "es", "en", policy="wait-1")
    trace = run_speech_segment(cascade, seg, np.zeros(16000 * 4, dtype=np.float32))
    rec = run_record([trace], suite="speech", domain="t", pair="es-en", modality="speech", policy="wait-1",
                     tier="fast", final_tier=None)
    speech = dict(doc, runs=[rec], experiment=dict(doc["experiment"], name="speech"))
    (root / "reports" / "speech").mkdir(parents=True)
    (root / "reports" / "speech" / "results.json").write_text(json.dumps(speech), encoding="utf-8")
    return root / "reports"


def _execute(name: str, reports: str | None, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("RTT_NB_ROOT", str(REPO))
    if reports is None:
        monkeypatch.delenv("RTT_NB_REPORTS", raising=False)  # the notebook's own default: committed reports
    else:
        monkeypatch.setenv("RTT_NB_REPORTS", reports)
    monkeypatch.delenv("RTT_NB_RUN", raising=False)
    book = nbformat.read(REPO / "notebooks" / name, as_version=4)
    nbclient.NotebookClient(book, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(REPO)}}).execute()
    return [o.get("text", "") for c in book.cells if c.cell_type == "code" for o in c.get("outputs", [])
            if o.get("output_type") == "stream"]


def test_policy_curve_notebook(tiny_reports: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = "".join(_execute("wait_k_vs_local_agreement.ipynb", str(tiny_reports / "sweep" / "results.json"), monkeypatch))
    for policy in ("wait-1", "wait-2", "local-agreement-2", "full-sentence"):
        assert policy in out


def test_compare_backends_notebook(tiny_reports: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = "".join(_execute("compare_mt_backends.ipynb", str(tiny_reports / "*" / "results.json"), monkeypatch))
    assert "sweep" in out and "es-en" in out


def test_speech_breakdown_notebook(tiny_reports: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = "".join(_execute("speech_latency_breakdown.ipynb", str(tiny_reports / "speech" / "results.json"), monkeypatch))
    assert "clip-1" in out and "ASR ms" in out


@pytest.mark.parametrize(
    ("name", "expected"),
    [("wait_k_vs_local_agreement.ipynb", ["de-en", "local-agreement-2", "full-sentence"]),
     ("compare_mt_backends.ipynb", ["default", "accurate-finals", "rule-based"]),
     ("speech_latency_breakdown.ipynb", ["fleurs-de", "ASR ms"])],
)
def test_notebooks_run_on_the_committed_reports(name: str, expected: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """What a reader opens: each notebook on the reports/ it reads by default (no re-run)."""
    out = "".join(_execute(name, None, monkeypatch))
    for text in expected:
        assert text in out, (text, out[-2000:])

