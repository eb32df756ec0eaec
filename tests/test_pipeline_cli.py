"""``rtt transcribe`` / ``rtt speech-translate`` error handling (no model needed for these paths)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from rtt.cli import speech_cmd
from rtt.errors import InvalidInput
from tests.speech_fixtures import write_wav


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    speech_cmd.register(sub)
    return parser.parse_args(list(argv))


def test_options_parse() -> None:
    args = parse("speech-translate", "x.ogg", "--from", "es", "--to", "en", "--realtime", "--tts", "o.wav", "--mode", "direct")
    assert args.source == "es" and args.target == "en" and args.realtime and args.tts == "o.wav" and args.mode == "direct"
    assert parse("transcribe", "x.ogg").lang == "auto"


@pytest.mark.parametrize("command", ["transcribe", "speech-translate"])
def test_missing_and_unreadable_files_are_errors(tmp_path: Path, command: str) -> None:
    extra = ["--to", "en"] if command == "speech-translate" else []
    args = parse(command, str(tmp_path / "missing.wav"), *extra)
    with pytest.raises(InvalidInput) as err:
        args.func(args)
    assert err.value.code == "AUDIO_NOT_FOUND"
    junk = tmp_path / "junk.ogg"
    junk.write_bytes(b"\x00\x01 definitely not ogg")
    args = parse(command, str(junk), *extra)
    with pytest.raises(InvalidInput) as err:
        args.func(args)
    assert err.value.code == "INVALID_AUDIO"


@pytest.mark.parametrize("command", ["transcribe", "speech-translate"])
def test_empty_and_silent_files_give_a_clean_empty_result(tmp_path: Path, command: str, capsys) -> None:  # type: ignore[no-untyped-def]
    extra = ["--to", "en"] if command == "speech-translate" else []
    empty = write_wav(tmp_path / "empty.wav", np.zeros(0))
    args = parse(command, str(empty), *extra)
    assert args.func(args) == 0
    silent = write_wav(tmp_path / "silent.wav", np.zeros(16000 * 2))
    args = parse(command, str(silent), *extra)
    assert args.func(args) == 0
    assert "no speech found" in capsys.readouterr().err


def test_main_maps_errors_to_exit_code_2(tmp_path: Path) -> None:
    from rtt.cli.main import main

    assert main(["transcribe", str(tmp_path / "nope.flac")]) == 2
