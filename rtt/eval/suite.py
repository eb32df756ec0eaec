"""Golden-set suite definitions: a versioned pydantic model for ``golden_sets/*.yaml``.

A suite says where its segments come from, which directions it covers, how many segments a
default run takes (``limit``: models are slow on CPU, so every run is sized), which rule checks
apply, and the tolerances ``rtt gate`` allows before calling a candidate a regression.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rtt.errors import ConfigError, RttError
from rtt.languages import get_language
from rtt.versioning import require_version

SUITE_VERSION = 1

CheckName = Literal["include", "exclude", "register", "glossary", "pattern"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataSource(_Strict):
    """``flores``: FLORES-200 devtest; ``paired``: tatoeba / tico19 / newstest folders;
    ``fleurs``: FLEURS clips with FLORES references; ``jsonl``: item files next to the suite."""

    kind: Literal["flores", "paired", "fleurs", "jsonl"]
    corpus: str | None = None  # paired: tatoeba | tico19 | newstest
    paths: list[str] = Field(default_factory=list)  # jsonl: globs relative to the suite file
    offset: int = 0  # skip this many segments (a held-out slice for tuning vs testing)

    @field_validator("corpus")
    @classmethod
    def _corpus(cls, v: str | None) -> str | None:
        if v is not None and v not in ("tatoeba", "tico19", "newstest"):
            raise ValueError("corpus must be tatoeba, tico19 or newstest")
        return v


class Tolerances(_Strict):
    """How far a candidate may fall behind the baseline on this suite (None = not gated).

    Quality metrics may *drop* by at most the given absolute points; latency metrics may *rise*
    by at most the given amount.  Wall-clock latencies depend on the machine, so they are gated
    only in relative terms and only where a suite opts in.
    """

    chrf_drop: float | None = 1.0
    bleu_drop: float | None = 1.5
    comet_drop: float | None = 0.01
    check_pass_rate_drop: float | None = 0.0
    wer_rise: float | None = 0.02
    al_rise: float | None = 0.5
    laal_rise: float | None = 0.5
    normalized_erasure_rise: float | None = 0.05
    first_latency_ms_p95_rise_pct: float | None = None
    final_latency_ms_p95_rise_pct: float | None = None


class Thresholds(_Strict):
    """Absolute floors and ceilings a run must meet whatever the baseline says."""

    min_chrf: float | None = None
    min_bleu: float | None = None
    max_wer: float | None = None
    max_al: float | None = None
    min_check_pass_rate: float | None = None


class SuiteSpec(_Strict):
    version: int = SUITE_VERSION
    name: str
    description: str = ""
    domain: str
    modality: Literal["text", "speech"] = "text"
    source: DataSource
    pairs: list[str]  # "es-en"
    limit: int | None = 50  # segments per pair in a default run
    checks: list[CheckName] = Field(default_factory=list)
    tolerances: Tolerances = Field(default_factory=Tolerances)
    thresholds: Thresholds = Field(default_factory=Thresholds)
    # Where the suite file lives, so relative data paths resolve; set by load_suite.
    origin: str | None = Field(default=None, exclude=True)

    @field_validator("version")
    @classmethod
    def _known_version(cls, v: int) -> int:
        return require_version("suite", v, SUITE_VERSION)

    @field_validator("pairs")
    @classmethod
    def _pairs(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("a suite needs at least one language pair")
        for pair in v:
            src, sep, tgt = pair.partition("-")
            if not sep or src == tgt:
                raise ValueError(f"pair {pair!r} must look like 'es-en'")
            try:
                get_language(src)
                get_language(tgt)
            except RttError as exc:
                raise ValueError(exc.message) from exc
        return v

    @field_validator("limit")
    @classmethod
    def _limit(cls, v: int | None) -> int | None:
        if v is not None and v < 1:
            raise ValueError("limit must be >= 1")
        return v

    @property
    def directory(self) -> Path:
        return Path(self.origin).parent if self.origin else Path.cwd()

    def split_pairs(self) -> list[tuple[str, str]]:
        return [tuple(p.split("-", 1)) for p in self.pairs]  # type: ignore[misc]


def repo_relative(path: str | Path) -> str:
    """A path as written in reports: relative to the checkout when inside it."""
    from rtt.datasets import REPO_ROOT

    p = Path(path).resolve()
    try:
        return str(p.relative_to(REPO_ROOT))
    except ValueError:
        return str(p)


def parse_suite(raw: Any, origin: str = "<dict>") -> SuiteSpec:
    if not isinstance(raw, dict):
        raise ConfigError(f"suite {origin} must be a mapping", path=origin)
    try:
        spec = SuiteSpec.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise ConfigError(f"suite {origin}: {where}: {first['msg']}", path=origin) from exc
    spec.origin = origin
    return spec


def load_suite(path: str | Path) -> SuiteSpec:
    src = Path(path)
    try:
        raw = yaml.safe_load(src.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"suite file {src} does not exist", path=str(src)) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"suite file {src} is not valid YAML: {exc}", path=str(src)) from exc
    return parse_suite(raw, str(src.resolve()))
