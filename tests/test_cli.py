"""The command line as a user runs it: a subprocess, exit codes, no tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import _store_has


def rtt(*args: str, stdin: bytes | None = None, timeout: int = 300) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "rtt.cli.main", *args], input=stdin, capture_output=True, timeout=timeout
    )


def assert_clean_error(proc: subprocess.CompletedProcess[bytes], code: str) -> None:
    err = proc.stderr.decode()
    assert proc.returncode != 0
    assert f"[{code}]" in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("translate", "--from", "xx", "--to", "en", "hola"), "UNSUPPORTED_LANGUAGE"),
        (("translate", "--from", "es", "--to", "es", "hola"), "UNSUPPORTED_LANGUAGE"),
        (("translate", "--from", "es", "--to", "en", ""), "EMPTY_TEXT"),
        (("translate", "--from", "es", "--to", "en", "   "), "EMPTY_TEXT"),
        (("translate", "--from", "es", "--to", "en"), "EMPTY_TEXT"),
        (("translate", "--from", "es", "--to", "en", "--policy", "wait-0", "--stream", "hola"), "INVALID_INPUT"),
        (("translate", "--from", "es", "--to", "en", "--glossary", "[1, 2]", "hola"), "INVALID_GLOSSARY"),
    ],
)
def test_bad_arguments_give_structured_errors(args: tuple[str, ...], code: str) -> None:
    assert_clean_error(rtt(*args), code)


def test_invalid_utf8_file_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"hola\nbuenos d\xedas\n")
    proc = rtt("translate", "--from", "es", "--to", "en", "--input", str(bad))
    assert_clean_error(proc, "INVALID_UTF8")
    assert "line 2" in proc.stderr.decode()


def test_one_megabyte_line_is_rejected(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text("hola\n" + "palabra " * 131072 + "\n")
    proc = rtt("translate", "--from", "es", "--to", "en", "--input", str(big))
    assert_clean_error(proc, "TEXT_TOO_LONG")
    proc = rtt("translate", "--from", "es", "--to", "en", "--input", "-", stdin=big.read_bytes())
    assert_clean_error(proc, "TEXT_TOO_LONG")


def test_models_list_shows_the_catalog() -> None:
    proc = rtt("models", "list")
    assert proc.returncode == 0
    out = proc.stdout.decode()
    assert "whisper-base-ct2" in out and "qwen2.5-0.5b-instruct-q4km" in out


@pytest.mark.models
@pytest.mark.skipif(not _store_has("qwen2.5-0.5b-instruct-q4km"), reason="model not assembled")
def test_file_mode_keeps_line_count_and_order(tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("Buenos días.\n\nGracias.\n")
    proc = rtt("translate", "--from", "es", "--to", "en", "--tier", "rule" if _apertium() else "fast",
               "--input", str(src))
    assert proc.returncode == 0, proc.stderr.decode()
    lines = proc.stdout.decode().split("\n")[:-1]
    assert len(lines) == 3 and lines[1] == ""
    assert "morning" in lines[0].lower() and "thank" in lines[2].lower()


@pytest.mark.models
@pytest.mark.skipif(not _store_has("qwen2.5-0.5b-instruct-q4km"), reason="model not assembled")
def test_stream_mode_prints_partials_and_lags() -> None:
    proc = rtt("translate", "--from", "es", "--to", "en", "--policy", "wait-2", "--stream",
               "Buenos días a todos")
    assert proc.returncode == 0, proc.stderr.decode()
    out = proc.stdout.decode()
    assert out.count("partial") == 3 and "final" in out
    assert "AL=" in out and "(4)" in out


def _apertium() -> bool:
    from rtt.mt.apertium_engine import installed_modes

    return "es-en" in installed_modes()


def test_every_documented_benchmark_is_a_command() -> None:
    for bench in ("mt", "waitk", "speech", "asr-tuning", "serve"):
        proc = rtt("bench", bench, "--help", timeout=60)
        assert proc.returncode == 0 and b"--out" in proc.stdout, (bench, proc.stderr[-300:])
