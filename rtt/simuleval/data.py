"""Input files for the ``simuleval`` command line from the shared data (never copied into
the repo: write them to a temporary or output folder)."""

from __future__ import annotations

from pathlib import Path

from rtt import datasets


def write_flores(out_dir: str | Path, source: str, target: str, limit: int | None = None) -> tuple[Path, Path]:
    """``source.txt`` / ``target.txt`` with the first ``limit`` FLORES devtest lines."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ps = datasets.flores(source, target).head(limit)
    src, tgt = out / f"flores.{source}", out / f"flores.{target}"
    src.write_text("\n".join(ps.sources) + "\n", encoding="utf-8")
    tgt.write_text("\n".join(ps.references) + "\n", encoding="utf-8")
    return src, tgt


def write_fleurs(out_dir: str | Path, source: str, target: str, limit: int | None = None) -> tuple[Path, Path]:
    """``wavs.txt`` (one audio path per line, absolute) and ``refs.<target>`` (FLORES references)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    clips = datasets.fleurs_clips(source)[: limit if limit is not None else None]
    wavs, refs = out / f"fleurs.{source}.list", out / f"fleurs.{source}-{target}.{target}"
    wavs.write_text("\n".join(str(c.audio.resolve()) for c in clips) + "\n", encoding="utf-8")
    refs.write_text("\n".join(datasets.flores_line(target, c.flores_line) for c in clips) + "\n", encoding="utf-8")
    return wavs, refs
