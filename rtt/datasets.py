"""Readers for the public evaluation data in ``../shared/data`` (never copied into the repo).

``RTT_SHARED_DATA`` points elsewhere; by default the folder beside the project checkout is used.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from rtt.errors import InvalidInput
from rtt.languages import get_language

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    env = os.environ.get("RTT_SHARED_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


@dataclass(frozen=True)
class ParallelSet:
    name: str
    source_lang: str
    target_lang: str
    sources: list[str]
    references: list[str]

    def head(self, n: int | None) -> ParallelSet:
        if n is None:
            return self
        return ParallelSet(self.name, self.source_lang, self.target_lang, self.sources[:n], self.references[:n])


@dataclass(frozen=True)
class SpeechClip:
    clip_id: str
    audio: Path
    language: str
    transcript: str  # lowercase FLEURS transcript
    flores_line: int  # 1-based line in the FLORES devtest files


def _lines(path: Path) -> list[str]:
    if not path.is_file():
        raise InvalidInput(f"data file {path} not found (is ../shared/data present?)", code="DATA_MISSING")
    return path.read_text(encoding="utf-8").splitlines()


def flores(source: str, target: str, root: Path | None = None) -> ParallelSet:
    base = (root or shared_data_dir()) / "flores200"
    s, t = get_language(source), get_language(target)
    return ParallelSet(
        "flores200-devtest",
        s.code,
        t.code,
        _lines(base / f"devtest-1-506.{s.flores}"),
        _lines(base / f"devtest-1-506.{t.flores}"),
    )


def paired(corpus: str, source: str, target: str, root: Path | None = None) -> ParallelSet:
    """Tatoeba / TICO-19 / newstest: folders named ``xxx-eng`` with ``test.<lang>`` files."""
    base = (root or shared_data_dir()) / corpus
    s, t = get_language(source), get_language(target)
    other = s if s.code != "en" else t
    folder = base / f"{other.flores}-eng"
    return ParallelSet(
        corpus, s.code, t.code, _lines(folder / f"test.{s.flores}"), _lines(folder / f"test.{t.flores}")
    )


def fleurs_clips(language: str | None = None, root: Path | None = None) -> list[SpeechClip]:
    base = (root or shared_data_dir()) / "fleurs"
    mapping = json.loads((base / "fleurs_flores_map.json").read_text(encoding="utf-8"))
    clips = []
    for entry in mapping:
        lang = entry["lang"]
        if language and lang != language:
            continue
        audio = base / entry["clip"]
        clips.append(
            SpeechClip(
                audio.stem,
                audio,
                lang,
                audio.with_suffix(".txt").read_text(encoding="utf-8").strip(),
                int(entry["flores_devtest_line"]),
            )
        )
    return clips


def flores_line(language: str, line: int, root: Path | None = None) -> str:
    base = (root or shared_data_dir()) / "flores200"
    return _lines(base / f"devtest-1-506.{get_language(language).flores}")[line - 1]
