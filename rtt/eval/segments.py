"""The unit every runner consumes: one source segment with its reference and expectations.

Segments come from a suite (public corpora in ``../shared/data`` or the small JSONL sets in
``golden_sets/``) or from a user's own files.  Each has a stable ``id`` (suite, direction,
position), which is what the canary hashes to route a segment to one arm or the other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rtt import datasets
from rtt.audio.pcm import PIPELINE_RATE
from rtt.errors import InvalidInput
from rtt.eval.suite import SuiteSpec
from rtt.languages import get_language


@dataclass(frozen=True)
class EvalSegment:
    id: str
    source: str
    reference: str | None
    source_lang: str
    target_lang: str
    audio: Path | None = None  # speech segments
    transcript: str | None = None  # what was said (for WER)
    glossary: dict[str, str] | None = None
    formality: str | None = None
    # Rule expectations for the checks in rtt.eval.checks ("include", "exclude", "register", ...)
    expect: dict[str, Any] = field(default_factory=dict)
    # Text options for the translator (e.g. {"localize_numbers": true}); passed where supported.
    options: dict[str, Any] = field(default_factory=dict)


def _head(items: list[EvalSegment], offset: int, limit: int | None) -> list[EvalSegment]:
    items = items[offset:]
    return items if limit is None else items[:limit]


def _parallel(prefix: str, ps: datasets.ParallelSet) -> list[EvalSegment]:
    return [
        EvalSegment(f"{prefix}:{i}", s, r, ps.source_lang, ps.target_lang)
        for i, (s, r) in enumerate(zip(ps.sources, ps.references, strict=True))
        if s.strip()
    ]


def _first(item: dict[str, Any], *keys: str) -> Any:
    for k in keys:
        if k in item and item[k] is not None:
            return item[k]
    return None


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{path}:{n}: not valid JSON ({exc.msg})", code="INVALID_SUITE_DATA") from exc
        if not isinstance(obj, dict):
            raise InvalidInput(f"{path}:{n}: each line must be a JSON object", code="INVALID_SUITE_DATA")
        obj.setdefault("_where", f"{path.name}:{n}")
        items.append(obj)
    return items


def segment_from_item(item: dict[str, Any], default_id: str) -> EvalSegment:
    """A JSONL item; the key spellings of the glossary/formatting sets are accepted too."""
    source = _first(item, "source", "src", "text", "input")
    src_lang = _first(item, "src_lang", "source_lang", "from")
    tgt_lang = _first(item, "tgt_lang", "target_lang", "to")
    if not isinstance(source, str) or not src_lang or not tgt_lang:
        raise InvalidInput(
            f"{item.get('_where', default_id)}: an item needs source, src_lang and tgt_lang",
            code="INVALID_SUITE_DATA",
        )
    expect = dict(item.get("expect") or {})
    for key in ("must_contain", "must_include", "include", "expected_terms"):
        if key in item and "include" not in expect:
            expect["include"] = item[key]
    for key in ("must_exclude", "exclude", "forbidden"):
        if key in item and "exclude" not in expect:
            expect["exclude"] = item[key]
    if "register" in item and "register" not in expect:
        expect["register"] = item["register"]
    if "pattern" in item and "pattern" not in expect:
        expect["pattern"] = item["pattern"]
    glossary = _first(item, "glossary", "terms")
    if glossary is not None and not isinstance(glossary, dict):
        raise InvalidInput(f"{item.get('_where', default_id)}: glossary must be an object", code="INVALID_SUITE_DATA")
    return EvalSegment(
        id=str(item.get("id", default_id)),
        source=source,
        reference=_first(item, "reference", "ref", "target", "expected"),
        source_lang=get_language(src_lang).code,
        target_lang=get_language(tgt_lang).code,
        glossary=glossary,
        formality=item.get("formality"),
        expect=expect,
        options=dict(item.get("options") or {}),
    )


def _jsonl_segments(suite: SuiteSpec) -> list[EvalSegment]:
    files: list[Path] = []
    for pattern in suite.source.paths:
        found = sorted(suite.directory.glob(pattern))
        if not found:
            raise InvalidInput(f"suite {suite.name}: no file matches {pattern!r}", code="DATA_MISSING")
        files.extend(found)
    out = []
    for path in files:
        for i, item in enumerate(read_jsonl(path)):
            out.append(segment_from_item(item, f"{suite.name}:{path.stem}:{i}"))
    return out


def _fleurs(suite: SuiteSpec, src: str, tgt: str) -> list[EvalSegment]:
    out = []
    for clip in datasets.fleurs_clips(src):
        out.append(
            EvalSegment(
                f"{suite.name}:{src}-{tgt}:{clip.clip_id}",
                datasets.flores_line(src, clip.flores_line),
                datasets.flores_line(tgt, clip.flores_line),
                src,
                tgt,
                audio=clip.audio,
                transcript=clip.transcript,
            )
        )
    return out


def suite_segments(suite: SuiteSpec, src: str, tgt: str, limit: int | None = None) -> list[EvalSegment]:
    """Segments of one direction, ``limit`` (else the suite's own limit) after the offset."""
    cap = limit if limit is not None else suite.limit
    kind = suite.source.kind
    if kind == "flores":
        items = _parallel(f"{suite.name}:{src}-{tgt}", datasets.flores(src, tgt))
    elif kind == "paired":
        assert suite.source.corpus is not None
        items = _parallel(f"{suite.name}:{src}-{tgt}", datasets.paired(suite.source.corpus, src, tgt))
    elif kind == "fleurs":
        items = _fleurs(suite, src, tgt)
    else:
        items = [s for s in _jsonl_segments(suite) if s.source_lang == src and s.target_lang == tgt]
    return _head(items, suite.source.offset, cap)


def file_segments(
    src_path: str | Path, ref_path: str | Path | None, src: str, tgt: str, limit: int | None = None
) -> list[EvalSegment]:
    """A user's source file (one segment per line) and its optional reference file."""
    get_language(src), get_language(tgt)
    sources = _read_lines(Path(src_path))
    refs: list[str | None] = list(_read_lines(Path(ref_path))) if ref_path else [None] * len(sources)
    if len(refs) != len(sources):
        raise InvalidInput(
            f"{src_path} has {len(sources)} lines but {ref_path} has {len(refs)}", code="LINE_COUNT_MISMATCH"
        )
    items = [
        EvalSegment(f"file:{src}-{tgt}:{i}", s, r, src, tgt)
        for i, (s, r) in enumerate(zip(sources, refs, strict=True))
        if s.strip()
    ]
    return items if limit is None else items[:limit]


def _read_lines(path: Path) -> list[str]:
    if not path.is_file():
        raise InvalidInput(f"file {path} not found", code="FILE_NOT_FOUND", path=str(path))
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not valid UTF-8", code="INVALID_UTF8") from exc


def load_clip(path: Path) -> np.ndarray:
    """A speech segment's audio: mono float32 at the pipeline rate."""
    from rtt.audio.files import load_audio_file  # PyAV loads only for speech runs

    if not Path(path).is_file():
        raise InvalidInput(f"audio file {path} not found", code="FILE_NOT_FOUND", path=str(path))
    return np.asarray(load_audio_file(path, PIPELINE_RATE), dtype=np.float32)
