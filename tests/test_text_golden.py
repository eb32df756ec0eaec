"""The glossary and formatting golden sets, checked by rule: every ``must_contain`` string must be
in the final output.  Run through plumbing fakes (echo, upper-casing) and, where the Debian
``apertium`` + ``apertium-en-es`` packages are installed, through real Apertium for es<->en."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from rtt.languages import LANGUAGES
from rtt.mt.base import MtEngine, MtRequest
from rtt.text import Glossary, TextOptions, finish_target, prepare_source
from tests.fakes import DictionaryEngine

GOLDEN = Path(__file__).resolve().parents[1] / "golden_sets"
APERTIUM_MODES = {("es", "en"): "spa-eng", ("en", "es"): "eng-spa"}


class UpperEngine(DictionaryEngine):
    """Plumbing fixture: upper-cases everything, as a careless engine might touch placeholders."""

    name = "upper-fake"

    def _full(self, text: str) -> str:
        return text.upper()


def load(kind: str) -> list[dict[str, Any]]:
    rows = []
    for path in sorted((GOLDEN / kind).glob("*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                row = json.loads(line)
                row["_where"] = f"{path.name}:{n}"
                rows.append(row)
    return rows


GLOSSARY_ROWS = load("glossary")
FORMATTING_ROWS = load("formatting")


def options_for(row: dict[str, Any], **overrides: Any) -> TextOptions:
    kw: dict[str, Any] = {
        "source_lang": row["source_lang"],
        "target_lang": row["target_lang"],
        "glossary": Glossary.from_json(row["glossary"]) if "glossary" in row else None,
    }
    kw.update(row.get("options", {}))
    kw.update(overrides)
    return TextOptions(**kw)


def missing_terms(row: dict[str, Any], output: str) -> list[str]:
    """Exact match, except that a term may be capitalised where it opens a sentence."""
    return [t for t in row["must_contain"] if t not in output and t[:1].upper() + t[1:] not in output]


def run_engine(engine: MtEngine, row: dict[str, Any], options: TextOptions) -> str:
    prepared = prepare_source(row["source"], options)
    request = MtRequest(
        prepared.text_for_engine, row["source_lang"], row["target_lang"], hints=prepared.hints
    )
    return finish_target(engine.translate_batch([request])[0].text, prepared.state, options)


@pytest.mark.parametrize("rows, kind", [(GLOSSARY_ROWS, "glossary"), (FORMATTING_ROWS, "formatting")])
def test_golden_sets_are_well_formed(rows: list[dict[str, Any]], kind: str) -> None:
    assert len(rows) >= 20
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids))
    for row in rows:
        assert isinstance(row["source"], str) and row["source"].strip(), row["_where"]
        assert row["source_lang"] in LANGUAGES and row["target_lang"] in LANGUAGES, row["_where"]
        terms = row["must_contain"]
        assert terms and all(isinstance(t, str) and t for t in terms), row["_where"]
        if kind == "glossary":
            Glossary.from_json(row["glossary"])
        else:
            assert set(row.get("options", {})) <= {"localize_numbers"}, row["_where"]
    directions = {(r["source_lang"], r["target_lang"]) for r in rows}
    if kind == "glossary":
        assert {("es", "en"), ("de", "en"), ("fr", "en"), ("en", "es"), ("en", "de")} <= directions


def test_formatting_set_covers_every_kind() -> None:
    from rtt.text.formatting import find_formatting

    kinds = {span.kind for row in FORMATTING_ROWS for span in find_formatting(row["source"])}
    assert {"number", "date", "time", "currency", "unit", "percent", "url", "email"} <= kinds


@pytest.mark.parametrize("engine", [DictionaryEngine(), UpperEngine()], ids=["echo", "upper"])
@pytest.mark.parametrize("punctuation", [True, False], ids=["punct", "nopunct"])
@pytest.mark.parametrize("rows", [GLOSSARY_ROWS, FORMATTING_ROWS], ids=["glossary", "formatting"])
def test_golden_through_fake_engines(rows: list[dict[str, Any]], engine: MtEngine, punctuation: bool) -> None:
    failures = {}
    for row in rows:
        output = run_engine(engine, row, options_for(row, punctuation=punctuation))
        if missing_terms(row, output):
            failures[row["id"]] = (missing_terms(row, output), output)
    assert not failures


@pytest.fixture(scope="module")
def apertium() -> str:
    binary = shutil.which("apertium")
    if binary is None:
        pytest.skip("apertium is not installed (apt-get install apertium apertium-en-es)")
    probe = subprocess.run(
        [binary, "-u", "spa-eng"], input="hola\n", capture_output=True, text=True, timeout=60
    )
    if probe.returncode != 0 or not probe.stdout.strip():
        pytest.skip(f"apertium-en-es is not installed: {probe.stderr.strip()[:200]}")
    return binary


def apertium_translate(binary: str, mode: str, lines: list[str]) -> list[str]:
    """One Apertium process per direction; it keeps one output line per input line."""
    done = subprocess.run(
        [binary, "-u", mode],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    out = done.stdout.split("\n")
    assert len(out) >= len(lines)
    return [line.strip() for line in out[: len(lines)]]


@pytest.mark.parametrize("rows", [GLOSSARY_ROWS, FORMATTING_ROWS], ids=["glossary", "formatting"])
def test_golden_through_apertium(rows: list[dict[str, Any]], apertium: str) -> None:
    checked = 0
    failures = {}
    for pair, mode in APERTIUM_MODES.items():
        selected = [r for r in rows if (r["source_lang"], r["target_lang"]) == pair]
        options = [options_for(r) for r in selected]
        prepared = [prepare_source(r["source"], o) for r, o in zip(selected, options, strict=True)]
        outputs = apertium_translate(apertium, mode, [p.text_for_engine for p in prepared])
        for row, opt, prep, raw in zip(selected, options, prepared, outputs, strict=True):
            final = finish_target(raw, prep.state, opt)
            checked += 1
            if missing_terms(row, final) or prep.state.placeholders.prefix in final:
                failures[row["id"]] = (raw, final)
    assert checked >= 10
    assert not failures
