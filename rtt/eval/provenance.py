"""Which config and which model files produced a result, so two reports can be compared
knowingly (a re-uploaded model changes its sha256 here even when its name does not)."""

from __future__ import annotations

import json
import platform
import subprocess
from importlib import metadata
from typing import Any

from rtt.config import RttConfig
from rtt.models.store import MANIFEST, ModelStore


def store_manifest(store: ModelStore, ref: str) -> dict[str, Any]:
    """A model's packages and file hashes (16 hex digits) from its store manifest."""
    directory = store.model_dir(ref)
    path = directory / MANIFEST
    if not path.is_file():
        return {"model": ref, "status": "not in store (a user path or not pulled)"}
    data = json.loads(path.read_text(encoding="utf-8"))
    files = {name: str(info.get("sha256", ""))[:16] for name, info in data.get("files", {}).items()}
    return {"model": ref, "packages": data.get("packages", {}), "sha256": files}


def _debian_version(package: str) -> str | None:
    try:
        proc = subprocess.run(
            ["dpkg-query", "-W", "-f", "${Version}", package], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    return proc.stdout.strip() or None


def engines_in_tiers(config: RttConfig, tiers: list[str]) -> list[str]:
    names: list[str] = []
    for tier in tiers:
        for routes in config.mt.tiers.get(tier, {}).values():
            for name in routes:
                if name not in names:
                    names.append(name)
    return names


def model_versions(
    config: RttConfig, tiers: list[str], speech: bool = False, store: ModelStore | None = None
) -> dict[str, Any]:
    store = store or ModelStore()
    out: dict[str, Any] = {}
    for name in engines_in_tiers(config, tiers):
        cfg = config.mt.engines.get(name)
        if cfg is None:
            continue
        if cfg.backend == "apertium":
            out[name] = {
                "backend": "apertium",
                "apertium": _debian_version("apertium"),
                "apertium-en-es": _debian_version("apertium-en-es"),
            }
        else:
            out[name] = {"backend": cfg.backend, **store_manifest(store, cfg.model)}
    if speech:
        out["asr"] = {"backend": config.asr.backend, **store_manifest(store, config.asr.model)}
        out["vad"] = {"backend": config.vad.backend, **store_manifest(store, config.vad.model)}
    return out


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def git_revision() -> str | None:
    """The checkout's commit, with ``+dirty`` when tracked files outside ``reports/`` differ from it.

    Report folders are excluded: an experiment rewrites its own report as it goes (and a batch
    of experiments each other's), which says nothing about the code that produced them."""
    from rtt.datasets import REPO_ROOT

    try:
        head = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no",
                                "--", ".", ":(exclude)reports"],
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def environment() -> dict[str, Any]:
    return {
        "rtt": _version("rtt"),
        "git": git_revision(),
        "python": platform.python_version(),
        "llama-cpp-python": _version("llama-cpp-python"),
        "sacrebleu": _version("sacrebleu"),
        "machine": platform.machine(),
    }
