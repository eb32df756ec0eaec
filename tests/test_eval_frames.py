"""Reports as DataFrames (rtt/eval/frames.py) on the committed reports: every frame carries where
it came from, and the loaders read what the benchmarks wrote."""

from __future__ import annotations

import pytest

pytest.importorskip("pandas")

from rtt.errors import InvalidInput  # noqa: E402
from rtt.eval import frames  # noqa: E402


def test_experiment_runs_carry_their_provenance() -> None:
    runs = frames.experiment_runs()
    assert set(frames.PROVENANCE) <= set(runs.columns)
    assert {"default", "policy-sweep", "rule-based"} <= set(runs["experiment"])
    assert runs["commit"].notna().all() and runs["file"].str.endswith("results.json").all()
    default = runs[runs["experiment"] == "default"]
    assert default["models"].str.contains("gemma3-270m").all()  # model file hashes, from results.json


def test_segments_pair_hypotheses_with_references() -> None:
    seg = frames.experiment_segments(frames.REPORTS / "policy-sweep" / "results.json")
    assert {"wait-3", "full-sentence"} <= set(seg["policy"])
    per_policy = seg.groupby("policy")["id"].apply(frozenset)
    assert per_policy.nunique() == 1  # every policy scored the same sentences: pairable


def test_benchmark_frames_read_what_the_benchmarks_wrote() -> None:
    cap = frames.capacity()
    assert {"text", "speech"} <= set(cap["kind"]) and cap["host_load"].notna().all()
    assert set(frames.batching()["arm"]) == {"batched", "unbatched"}
    assert set(frames.peer_wer()["system"]) == {"rtt", "whisperlivekit"}
    metrics, decision = frames.canary(frames.REPORTS / "canary" / "local-agreement-shadow.json")
    assert list(metrics.columns) == ["default", "local-agreement"] and decision["significance"]["chrf"]["signature"]
    kinds = set(frames.benchmark_files()["kind"])
    assert {"rtt.eval.results", "rtt.eval.canary", "serve-load", "session-trace", "tracing"} <= kinds


def test_a_missing_report_is_a_structured_error(tmp_path) -> None:
    with pytest.raises(InvalidInput) as err:
        frames.capacity(tmp_path / "nope.json")
    assert err.value.code == "NOT_FOUND"
