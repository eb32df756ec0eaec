"""Rule-checked expectations for the small golden sets (support, legal, formality, glossary,
formatting): a hypothesis passes when every rule its segment declares holds.

Rules (``EvalSegment.expect``):

* ``include``: a list whose entries are a string or a list of alternatives; each entry must
  appear in the output (case-insensitive; alternatives: any one of them);
* ``exclude``: strings that must not appear;
* ``register``: ``formal`` / ``informal``: the register of the output as judged by the
  second-person cues of :mod:`rtt.text.formality` (an output with no cue passes);
* ``pattern``: regular expressions the output must match (numbers, dates, URLs kept);
* a segment with a ``glossary`` also checks that every term of it that occurs in the source
  comes out as the glossary says.

These are rules, not quality metrics: they catch a wrong term or register, nothing more.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rtt.eval.segments import EvalSegment


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    detail: str = ""


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def _contains(text: str, needle: str) -> bool:
    # Word boundaries where the needle starts/ends with a word character, so "tu" does not
    # match inside "tuvo" but "S.A." still matches as written.
    n = re.escape(_norm(needle))
    left = r"(?<!\w)" if needle[:1].isalnum() else ""
    right = r"(?!\w)" if needle[-1:].isalnum() else ""
    return re.search(f"{left}{n}{right}", _norm(text)) is not None


def _alternatives(entry: Any) -> list[str]:
    return [str(x) for x in entry] if isinstance(entry, list) else [str(entry)]


def check_include(hyp: str, entries: list[Any]) -> CheckResult:
    options = [_alternatives(e) for e in entries]
    missing = [" | ".join(alts) for alts in options if not any(_contains(hyp, a) for a in alts)]
    return CheckResult("include", not missing, f"missing: {'; '.join(missing)}" if missing else "")


def check_exclude(hyp: str, entries: list[Any]) -> CheckResult:
    found = [str(e) for e in entries if _contains(hyp, str(e))]
    return CheckResult("exclude", not found, f"found: {'; '.join(found)}" if found else "")


def check_pattern(hyp: str, patterns: list[str] | str) -> CheckResult:
    pats = [patterns] if isinstance(patterns, str) else patterns
    failed = [p for p in pats if re.search(p, hyp) is None]
    return CheckResult("pattern", not failed, f"no match: {'; '.join(failed)}" if failed else "")


def judge_register(text: str, lang: str) -> str:
    """``formal`` / ``informal`` / ``mixed`` / ``unknown`` by :func:`rtt.text.formality.check_register`."""
    from rtt.text.formality import check_register as register_of

    return str(register_of(text, lang).register)


def check_register(
    hyp: str, expected: str, lang: str, judge: Callable[[str, str], str] | None = None
) -> CheckResult:
    # A sentence that addresses nobody ("unknown") cannot be wrong about it; "mixed" is wrong.
    got = (judge or judge_register)(hyp, lang)
    ok = got in (expected, "unknown")
    return CheckResult("register", ok, "" if ok else f"expected {expected}, got {got}")


def check_glossary(seg: EvalSegment, hyp: str) -> CheckResult:
    from rtt.text.glossary import Glossary

    assert seg.glossary is not None
    glossary = Glossary.from_json(seg.glossary)
    wanted = [m.target for m in glossary.find(seg.source)]
    missing = [t for t in wanted if not _contains(hyp, t)]
    return CheckResult("glossary", not missing, f"missing: {'; '.join(missing)}" if missing else "")


def run_checks(seg: EvalSegment, hyp: str, judge: Callable[[str, str], str] | None = None) -> list[CheckResult]:
    out: list[CheckResult] = []
    e = seg.expect
    if e.get("include"):
        out.append(check_include(hyp, list(e["include"])))
    if e.get("exclude"):
        out.append(check_exclude(hyp, list(e["exclude"])))
    if e.get("pattern"):
        out.append(check_pattern(hyp, e["pattern"]))
    register = e.get("register") or (seg.formality if seg.formality in ("formal", "informal") else None)
    if register:
        out.append(check_register(hyp, register, seg.target_lang, judge))
    if seg.glossary:
        out.append(check_glossary(seg, hyp))
    return out
