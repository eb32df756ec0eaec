"""rtt's agents run under SimulEval 1.1.4's own evaluator (its command line), and SimulEval's
delays and scores agree with rtt's runner and metrics on the same decoder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("simuleval")

REPO = Path(__file__).resolve().parents[1]
SOURCES = ["hola a todos y buenas tardes", "el gato come pescado", "la casa es grande"]
REFS = ["hello everyone and good afternoon", "the cat eats fish", "the house is big"]


def _simuleval(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-c", "import sys; from simuleval.cli import main; sys.exit(main())", *args]
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def _instances(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "instances.log").read_text().splitlines() if line.strip()]


def test_text_agent_plumbing_through_simuleval_cli(tmp_path: Path) -> None:
    (tmp_path / "src.es").write_text("\n".join(SOURCES) + "\n", encoding="utf-8")
    (tmp_path / "ref.en").write_text("\n".join(REFS) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    proc = _simuleval([
        "--agent-class", "tests.simuleval_fixtures.FixtureTextAgent",
        "--source", "src.es", "--target", "ref.en", "--source-lang", "es", "--target-lang", "en",
        "--policy", "wait-2", "--stabilization", "aggressive", "--output", str(out),
        "--quality-metrics", "BLEU", "--latency-metrics", "AL", "LAAL", "AP", "DAL", "--no-progress-bar",
    ], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    instances = _instances(out)
    assert [i["prediction"] for i in instances] == [
        "hello to everyone and good afternoon", "the cat eats fish", "the house is big"]
    # SimulEval's delays are exactly wait-2's: word i written after min(i + 2, |source|) words
    for inst, src in zip(instances, SOURCES, strict=True):
        n = len(src.split())
        assert inst["delays"] == [min(i + 2, n) for i in range(len(inst["delays"]))]

    # rtt's runner on the same decoder gives the same delays, and rtt's AL equals SimulEval's
    from rtt.eval.segments import EvalSegment
    from rtt.eval.summary import summarize
    from rtt.eval.text_runner import TextRunSettings, run_text
    from tests.eval_fixtures import FakeTranslator

    segs = [EvalSegment(f"s:{i}", s, r, "es", "en") for i, (s, r) in enumerate(zip(SOURCES, REFS, strict=True))]
    traces = run_text(FakeTranslator(), segs, TextRunSettings("wait-2", "aggressive"))
    assert [t.delays for t in traces] == [[float(d) for d in i["delays"]] for i in instances]
    scores = (out / "scores.tsv").read_text().splitlines()
    header, values = scores[0].split("\t"), [float(x) for x in scores[1].split("\t")]
    theirs = dict(zip(header, values, strict=True))
    ours = summarize(traces, "en")
    assert ours["al"] == pytest.approx(theirs["AL"], abs=1e-3)
    assert ours["laal"] == pytest.approx(theirs["LAAL"], abs=1e-3)
    assert ours["bleu"] == pytest.approx(theirs["BLEU"], abs=0.01)


@pytest.mark.models
@pytest.mark.slow
def test_text_agent_with_the_real_fast_tier_on_flores(tmp_path: Path, shared_data: Path) -> None:
    from rtt.models.store import ModelStore
    from rtt.simuleval.data import write_flores

    if not ModelStore().is_ready("qwen2.5-0.5b-instruct-q4km"):
        pytest.skip("packaged MT model not assembled")
    src, ref = write_flores(tmp_path, "es", "en", limit=2)
    out = tmp_path / "out"
    proc = _simuleval([
        "--agent-class", "rtt.simuleval.agents.RttTextAgent", "--source", str(src), "--target", str(ref),
        "--source-lang", "es", "--target-lang", "en", "--policy", "wait-3", "--stabilization", "aggressive",
        "--output", str(out), "--quality-metrics", "BLEU", "--latency-metrics", "AL", "--no-progress-bar",
    ], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    instances = _instances(out)
    assert len(instances) == 2
    for inst in instances:
        words = inst["prediction"].split()
        assert len(words) >= 5
        # wait-3: the first word needs three source words, and delays never decrease
        assert inst["delays"][0] >= 3 and inst["delays"] == sorted(inst["delays"])
    assert "AL" in (out / "scores.tsv").read_text()


def test_speech_agent_plumbing_through_simuleval_cli(tmp_path: Path) -> None:
    import numpy as np
    import soundfile as sf

    wav = tmp_path / "clip.wav"
    sf.write(wav, (0.1 * np.sin(np.arange(16000 * 4) / 10)).astype(np.float32), 16000)
    (tmp_path / "wavs.txt").write_text(f"{wav}\n", encoding="utf-8")
    (tmp_path / "ref.en").write_text("hello everyone and good afternoon\n", encoding="utf-8")
    out = tmp_path / "out"
    proc = _simuleval([
        "--agent-class", "tests.simuleval_fixtures.FixtureSpeechAgent",
        "--source", "wavs.txt", "--target", "ref.en", "--source-lang", "es", "--target-lang", "en",
        "--policy", "wait-1", "--stabilization", "aggressive", "--source-segment-size", "250",
        "--output", str(out), "--quality-metrics", "BLEU", "--latency-metrics", "AL", "StartOffset",
        "--computation-aware", "--no-progress-bar",
    ], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    inst = _instances(out)[0]
    assert inst["prediction"] == "hello to everyone and good afternoon"
    # delays are ms of audio read: non-decreasing, the first word before the clip ends
    assert inst["delays"] == sorted(inst["delays"]) and inst["delays"][0] < 4000 <= inst["source_length"] + 1
    assert "AL_CA" in (out / "scores.tsv").read_text()
