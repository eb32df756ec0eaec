"""Config overlays: ``extends: FILE`` merges a few lines onto a base config."""

from __future__ import annotations

from pathlib import Path

import pytest

from rtt.config import deep_merge, load_config
from rtt.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


def test_overlay_changes_one_setting_and_keeps_the_rest(tmp_path: Path) -> None:
    base = load_config()
    arm = tmp_path / "arm.yaml"
    arm.write_text("extends: default\nname: arm\nasr: {mt_yields_to_final: false}\n"
                   "mt: {engines: {gemma-270m: {chunk_words: 0}}}\n", encoding="utf-8")
    cfg = load_config(arm)
    assert cfg.name == "arm" and not cfg.asr.mt_yields_to_final
    assert cfg.asr.mt_yields_to_prefinal == base.asr.mt_yields_to_prefinal  # siblings kept
    gemma, before = cfg.mt.engines["gemma-270m"], base.mt.engines["gemma-270m"]
    assert gemma.chunk_words == 0 and gemma.model == before.model and gemma.prompt == before.prompt
    assert cfg.mt.tiers == base.mt.tiers and set(cfg.mt.engines) == set(base.mt.engines)


def test_overlays_chain_by_relative_path_and_lists_replace(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "mid.yaml").write_text("extends: default\nname: mid\nvad: {min_silence_ms: 300}\n", encoding="utf-8")
    top = tmp_path / "sub" / "top.yaml"
    top.write_text("extends: ../mid.yaml\nname: top\nmt: {engines: {apertium: {directions: [es-en]}}}\n",
                   encoding="utf-8")
    cfg = load_config(top)
    assert cfg.name == "top" and cfg.vad.min_silence_ms == 300
    assert cfg.mt.engines["apertium"].directions == ["es-en"]  # a list replaces, it does not append
    assert deep_merge({"a": {"b": [1, 2], "c": 1}}, {"a": {"b": [3]}}) == {"a": {"b": [3], "c": 1}}


def test_bad_overlays_are_config_errors(tmp_path: Path) -> None:
    loop_a, loop_b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    loop_a.write_text("extends: b.yaml\n", encoding="utf-8")
    loop_b.write_text("extends: a.yaml\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="extends itself"):
        load_config(loop_a)
    missing = tmp_path / "m.yaml"
    missing.write_text("extends: nowhere.yaml\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(missing)
    wrong = tmp_path / "w.yaml"
    wrong.write_text("extends: [default]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="extends must name"):
        load_config(wrong)
    typo = tmp_path / "t.yaml"
    typo.write_text("extends: default\nasr: {mt_yields_to_finals: false}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="mt_yields_to_finals"):  # the merged result is still validated
        load_config(typo)


def test_committed_ab_arms_load() -> None:
    arms = sorted((REPO / "experiments" / "configs").glob("*.yaml"))
    assert arms
    for path in arms:
        assert load_config(path).name == path.stem
