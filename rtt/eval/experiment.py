"""Experiments: a named variation of the served config, evaluated on golden suites.

``experiments/X.yaml`` names a base config (default: the packaged one), overrides deep-merged
into it (models, tiers, VAD, ...), and the streaming settings (tier, final tier, policy or a
sweep of policies, stabilization).  ``rtt experiment run`` evaluates it and writes
``reports/X/``; so what was measured is a config file that ``rtt serve --config`` can serve.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rtt.config import DEFAULT_CONFIG_PATH, RttConfig, deep_merge, parse_config, read_config_mapping
from rtt.datasets import REPO_ROOT
from rtt.errors import ConfigError
from rtt.eval.provenance import environment, model_versions
from rtt.eval.runs import iter_text_suite, policy_label
from rtt.eval.suite import SuiteSpec, load_suite
from rtt.eval.suite import repo_relative as _rel
from rtt.eval.text_runner import StreamingTranslator, TextRunSettings
from rtt.versioning import require_version

EXPERIMENT_VERSION = 1
RESULTS_SCHEMA = "rtt.eval.results"
RESULTS_SCHEMA_VERSION = 1


class ExperimentSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = EXPERIMENT_VERSION
    name: str
    description: str = ""
    base_config: str | None = None  # relative to the experiment file; None = packaged default
    config: dict[str, Any] = Field(default_factory=dict)  # deep-merged overrides
    tier: str | None = None  # live tier; None = the config's default tier
    final_tier: str | None = None  # re-translate finished sentences with this tier
    # The refinement pass (fast final first, this tier's revision after it), as live sessions
    # run it with the config's mt.refine_tier; None = live finals only.
    refine_tier: str | None = None
    policy: str | list[str] | None = None  # a list is a sweep: one run per policy
    k: int | None = None  # shorthand for policy wait-k
    stabilization: Literal["fast", "balanced", "aggressive"] | None = None
    word_interval_ms: float = 0.0
    # Speech suites: "session" (the service's Session, real-time sleeps) or "cascade" (step by step).
    speech_engine: Literal["session", "cascade"] = "session"
    realtime: bool = True
    suites: list[str]
    pairs: list[str] | None = None  # restrict every suite to these directions
    limit: int | None = None  # segments per suite direction (the suite's own limit otherwise)
    origin: str | None = Field(default=None, exclude=True)

    @field_validator("version")
    @classmethod
    def _known_version(cls, v: int) -> int:
        return require_version("experiment", v, EXPERIMENT_VERSION)

    @property
    def directory(self) -> Path:
        return Path(self.origin).parent if self.origin else Path.cwd()

    def policies(self) -> list[str | None]:
        if self.k is not None:
            return [f"wait-{self.k}"]
        if isinstance(self.policy, list):
            return list(self.policy)
        return [self.policy]

    def resolve(self, ref: str) -> Path:
        """A path written in the experiment: beside the file, else from the repo root."""
        p = Path(ref)
        if p.is_absolute():
            return p
        for base in (self.directory, Path.cwd(), REPO_ROOT):
            if (base / p).exists():
                return base / p
        return self.directory / p


def load_experiment(path: str | Path) -> ExperimentSpec:
    src = Path(path)
    try:
        raw = yaml.safe_load(src.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"experiment file {src} does not exist", path=str(src)) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"experiment file {src} is not valid YAML: {exc}", path=str(src)) from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"experiment {src} must be a mapping", path=str(src))
    try:
        spec = ExperimentSpec.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise ConfigError(f"experiment {src}: {where}: {first['msg']}", path=str(src)) from exc
    spec.origin = str(src.resolve())
    return spec


def experiment_config(spec: ExperimentSpec) -> tuple[RttConfig, str]:
    base_path = spec.resolve(spec.base_config) if spec.base_config else DEFAULT_CONFIG_PATH
    raw = read_config_mapping(base_path)
    if not isinstance(raw, dict):
        raise ConfigError(f"base config {base_path} must be a mapping", path=str(base_path))
    merged = deep_merge(raw, spec.config)
    merged["name"] = spec.name  # the experiment names the config it measured
    return parse_config(merged, f"{spec.origin} (base {base_path})"), str(base_path)


def run_experiment(
    spec: ExperimentSpec,
    translator: StreamingTranslator | None = None,
    *,
    limit: int | None = None,
    suites: list[str] | None = None,
    pairs: list[str] | None = None,
    quiet: bool = False,
    threads: int | None = None,
    on_run: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Evaluate the experiment and return the results document (``results.json``).

    ``threads`` overrides every engine's CPU threads: a deployment knob (greedy outputs do not
    depend on it; timings do), useful on a shared machine where oversubscribed threads stall.
    ``on_run`` receives the document so far (``"partial": true``) after each run, so a long
    evaluation that is stopped keeps what it measured."""
    config, base_path = experiment_config(spec)
    if threads is not None:
        for engine in config.mt.engines.values():
            engine.threads = threads
        config.asr.threads = threads
    own = translator is None
    if translator is None:
        from rtt.translator import Translator

        translator = Translator(config)
    tier = spec.tier or config.mt.default_tier
    final_tier = spec.final_tier or config.mt.final_tier
    if final_tier == tier:
        final_tier = None
    refine_tier = spec.refine_tier if spec.refine_tier not in (tier, final_tier) else None
    suite_specs: list[SuiteSpec] = [load_suite(spec.resolve(s)) for s in (suites or spec.suites)]
    cap = limit if limit is not None else spec.limit
    runs: list[dict[str, Any]] = []
    speech_used = False

    def document(partial: bool) -> dict[str, Any]:
        tiers = [t for t in (tier, final_tier, refine_tier) if t]
        doc = {
            "schema": RESULTS_SCHEMA,
            "schema_version": RESULTS_SCHEMA_VERSION,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "experiment": {
                "name": spec.name,
                "path": _rel(spec.origin) if spec.origin else None,
                "description": spec.description,
                "tier": tier,
                "final_tier": final_tier,
                "refine_tier": refine_tier,
                "policies": [policy_label(p, spec.stabilization, config.policy.name, config.policy.stabilization)
                             for p in spec.policies()],
                "stabilization": spec.stabilization or config.policy.stabilization,
                "word_interval_ms": spec.word_interval_ms,
                "limit": cap,
                "threads": threads,
            },
            "config": {"name": config.name, "version": config.version, "base": _rel(base_path)},
            "models": model_versions(config, tiers, speech=speech_used),
            "environment": environment(),
            "runs": list(runs),
            "summary": overall(runs),
        }
        if partial:
            doc["partial"] = True
        return doc

    try:
        for suite in suite_specs:
            for policy in spec.policies():
                label = policy_label(policy, spec.stabilization, config.policy.name, config.policy.stabilization)
                if suite.modality == "speech":
                    from rtt.eval.speech_runner import run_speech_suite

                    speech_used = True
                    runs.extend(
                        run_speech_suite(config, suite, policy, spec.stabilization, tier, label, limit=cap,
                                         pairs=pairs or spec.pairs, quiet=quiet, realtime=spec.realtime,
                                         engine=spec.speech_engine, refine_tier=refine_tier)
                    )
                    if on_run:
                        on_run(document(partial=True))
                    continue
                settings = TextRunSettings(policy, spec.stabilization, tier, final_tier, spec.word_interval_ms,
                                           refine_tier)
                for rec in iter_text_suite(
                    translator, suite, settings, label, limit=cap, pairs=pairs or spec.pairs, quiet=quiet
                ):
                    rec["suite_path"] = _rel(suite.origin or suite.name)
                    runs.append(rec)
                    if on_run:
                        on_run(document(partial=True))
    finally:
        if own:
            translator.close()  # type: ignore[union-attr]
    return document(partial=False)


def overall(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Unweighted means over a policy's runs (one entry per point of a sweep; speech apart)."""
    keys = ("chrf", "bleu", "comet", "chrf_first_final", "wer", "al", "laal", "first_latency_ms_p50",
            "final_latency_ms_p50", "final_latency_ms_p95", "revision_latency_ms_p50", "normalized_erasure",
            "check_pass_rate")
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in runs:
        key = r["policy"] if r.get("modality") != "speech" else f"{r['policy']} (speech)"
        groups.setdefault(key, []).append(r)
    out: dict[str, Any] = {}
    for key, rows in groups.items():
        entry: dict[str, Any] = {
            "n_runs": len(rows),
            "n_segments": sum(r["n_segments"] for r in rows),
            "n_errors": sum(r["n_errors"] for r in rows),
        }
        for k in keys:
            vals = [r[k] for r in rows if r.get(k) is not None]
            entry[k] = round(sum(vals) / len(vals), 3) if vals else None
        out[key] = entry
    return out
