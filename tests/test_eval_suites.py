"""Suite definitions validate, load their segments, and the hand-written sets pass their own rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from rtt.errors import ConfigError, InvalidInput
from rtt.eval.checks import check_include, check_register, run_checks
from rtt.eval.segments import EvalSegment, read_jsonl, segment_from_item, suite_segments
from rtt.eval.suite import load_suite, parse_suite

REPO = Path(__file__).resolve().parents[1]
SUITES = sorted((REPO / "golden_sets").glob("*.yaml"))


def test_every_suite_file_validates() -> None:
    assert len(SUITES) >= 10
    names = {load_suite(p).name for p in SUITES}
    assert {"general", "conversational", "medical", "news", "speech", "support", "legal", "formality",
            "glossary", "formatting", "smoke"} <= names


@pytest.mark.parametrize("path", SUITES, ids=lambda p: p.stem)
def test_suite_segments_load(path: Path, shared_data: Path) -> None:
    suite = load_suite(path)
    total = 0
    for src, tgt in suite.split_pairs():
        segs = suite_segments(suite, src, tgt)
        assert suite.limit is None or len(segs) <= suite.limit
        for s in segs:
            assert s.source.strip() and s.source_lang == src and s.target_lang == tgt
            if suite.modality == "speech":
                assert s.audio is not None and s.audio.is_file() and s.transcript
        assert len({s.id for s in segs}) == len(segs)  # ids are unique (the canary hashes them)
        total += len(segs)
    assert total > 0


def test_limit_and_offset(shared_data: Path) -> None:
    suite = parse_suite({"name": "x", "domain": "d", "source": {"kind": "flores", "offset": 2},
                         "pairs": ["es-en"], "limit": 3})
    segs = suite_segments(suite, "es", "en")
    full = suite_segments(parse_suite({"name": "x", "domain": "d", "source": {"kind": "flores"},
                                       "pairs": ["es-en"], "limit": 5}), "es", "en")
    assert [s.source for s in segs] == [s.source for s in full[2:5]]
    assert len(suite_segments(suite, "es", "en", limit=1)) == 1


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"name": "x", "domain": "d", "source": {"kind": "flores"}, "pairs": []}, "pairs"),
        ({"name": "x", "domain": "d", "source": {"kind": "flores"}, "pairs": ["es_en"]}, "es-en"),
        ({"name": "x", "domain": "d", "source": {"kind": "flores"}, "pairs": ["es-xx"]}, "xx"),
        ({"name": "x", "domain": "d", "source": {"kind": "paired", "corpus": "europarl"}, "pairs": ["es-en"]}, "corpus"),
        ({"version": 2, "name": "x", "domain": "d", "source": {"kind": "flores"}, "pairs": ["es-en"]}, "version"),
        ({"name": "x", "domain": "d", "source": {"kind": "flores"}, "pairs": ["es-en"], "bogus": 1}, "bogus"),
        ({"name": "x", "domain": "d", "source": {"kind": "flores"}, "pairs": ["es-en"], "limit": 0}, "limit"),
    ],
)
def test_invalid_suites_are_rejected_with_the_field(raw: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_suite(raw, "t.yaml")
    assert message in err.value.message


def _own_items(name: str) -> list[EvalSegment]:
    out = []
    for path in sorted((REPO / "golden_sets" / name).glob("*.jsonl")):
        out += [segment_from_item(item, f"{name}:{i}") for i, item in enumerate(read_jsonl(path))]
    return out


@pytest.mark.parametrize("name", ["support", "legal", "formality"])
def test_references_of_own_sets_pass_their_rules(name: str) -> None:
    """A rule a human reference fails would be a broken expectation, not a model error."""
    items = _own_items(name)
    assert len(items) >= 12
    for seg in items:
        assert seg.reference, seg.id
        results = run_checks(seg, seg.reference)
        assert results, f"{seg.id} declares no rule"
        assert all(r.passed for r in results), (seg.id, results)


def test_formality_set_expects_both_registers_of_the_same_sentence() -> None:
    items = _own_items("formality")
    by_source: dict[tuple[str, str], set[str]] = {}
    for s in items:
        by_source.setdefault((s.source, s.target_lang), set()).add(s.expect["register"])
    assert all(v == {"formal", "informal"} for v in by_source.values())


def test_rule_checks_catch_wrong_outputs() -> None:
    seg = _own_items("formality")[0]  # formal Spanish
    assert not all(r.passed for r in run_checks(seg, "¿Puedes enviarme tu factura?"))
    assert check_register("¿Puede usted enviarme su factura?", "formal", "es").passed
    assert check_register("Send the invoice.", "formal", "es").passed  # no cue: cannot be wrong
    assert not check_include("El inquilino paga.", [["arrendatario"], "paga"]).passed
    assert check_include("El inquilino paga.", [["arrendatario", "inquilino"], "paga"]).passed
    assert not check_include("Contrato de 30 días", ["3"]).passed  # whole tokens, not substrings


def test_glossary_and_formatting_items_are_read(shared_data: Path) -> None:
    glossary = load_suite(REPO / "golden_sets" / "glossary.yaml")
    segs = suite_segments(glossary, "es", "en")
    assert segs and all(s.glossary for s in segs) and all(s.expect.get("include") for s in segs)
    seg = next(s for s in segs if "AcmeCloud" in s.source)
    assert all(r.passed for r in run_checks(seg, seg.source.replace("ofrece", "offers")))
    assert not all(r.passed for r in run_checks(seg, "Acme Cloud offers storage."))


def test_bad_jsonl_line_names_file_and_line(tmp_path: Path) -> None:
    p = tmp_path / "x.jsonl"
    p.write_text('{"source": "a", "src_lang": "es", "tgt_lang": "en"}\n{oops\n', encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        read_jsonl(p)
    assert "x.jsonl:2" in err.value.message
