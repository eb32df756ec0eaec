"""What the JavaScript client and browser tests share: node, a real-model server, and FLEURS
audio decoded into a temporary folder (never into the repo)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from tests import serve_fixtures
from tests.serve_fixtures import SHARED_DATA, RunningServer

REPO = Path(__file__).resolve().parents[1]
CLIENT_TESTS = REPO / "clients" / "js" / "test"
CLIP = SHARED_DATA / "fleurs" / "fleurs-es-002.ogg"
# Words of that clip's English reference ("The number of people present was so large that it
# was not possible for everybody to gain access to the funeral in St. Peter's Square.") that
# the served es->en tier keeps, whatever its wording.
CLIP_WORDS = ("funeral", "people")
SPEECH_MODELS = ("whisper-base-ct2", "silero-vad")
# One line per node run, printed at the end of the pytest run (tests/conftest.py).
NODE_SUMMARIES: list[str] = []


def node_or_skip() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (make test installs it where apt is available)")
    major = int(subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip("v\n").split(".")[0])
    if major < 22 and not (REPO / "clients" / "node_modules" / "ws").is_dir():
        pytest.skip("the ws package is not installed in clients/ (make test runs npm ci there)")
    return node


def run_node_tests(node: str, paths: list[Path], env: dict[str, str], timeout_s: float) -> tuple[int, str]:
    """The package's ``npm test`` (``node --test`` with TAP output, clients/package.json) on
    ``paths``, echoed into pytest's output with its pass/fail counts."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed (make test installs it where apt is available)")
    proc = subprocess.run([npm, "test", "--silent", "--", *map(str, paths)], capture_output=True,
                          text=True, timeout=timeout_s, cwd=REPO / "clients",
                          env={"PATH": f"{Path(node).parent}{os.pathsep}{os.environ.get('PATH', '')}",
                               "HOME": os.environ.get("HOME", "/tmp"), **env})
    print(proc.stdout[-20000:])
    if proc.stderr.strip():
        print(proc.stderr[-4000:])
    counts = dict(re.findall(r"^# (tests|pass|fail|cancelled|skipped|todo) (\d+)$", proc.stdout, re.M))
    summary = f"{' '.join(p.name for p in paths)}: " + ", ".join(f"{k} {v}" for k, v in counts.items())
    print("node --test " + summary)
    NODE_SUMMARIES.append(summary + ("" if proc.returncode == 0 else f" (exit {proc.returncode})"))
    return proc.returncode, proc.stdout


def decoded_clip(path: Path = CLIP, trailing_silence_s: float = 1.0) -> np.ndarray:
    """The clip as PCM16 16 kHz mono, with silence after it so the endpointer closes it."""
    from faster_whisper.audio import decode_audio

    if not path.exists():
        pytest.skip("FLEURS clips are not in ../shared/data")
    samples = decode_audio(str(path), sampling_rate=16000)
    pcm = (np.clip(samples, -1, 32767 / 32768) * 32768).astype("<i2")
    return np.concatenate([pcm, np.zeros(int(16000 * trailing_silence_s), dtype="<i2")])


def write_pcm(directory: Path) -> Path:
    out = directory / "clip-16k.pcm"
    out.write_bytes(decoded_clip().tobytes())
    return out


def write_wav(directory: Path, silence_s: float = 2.0) -> Path:
    out = directory / "clip-16k.wav"
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(decoded_clip(trailing_silence_s=silence_s).tobytes())
    return out


def start_model_server(api_keys: list[str]) -> RunningServer:
    """The default config's speech models (Whisper base, Silero VAD) and its fast es->en tier,
    without the refinement tier: these tests look at finals, and the shared cores need not
    load and run Qwen 1.5B for revisions nobody reads."""
    if not CLIP.exists():
        pytest.skip("FLEURS clips are not in ../shared/data")
    return serve_fixtures.start_model_server(SPEECH_MODELS, refine=False, api_keys=api_keys,
                                             timeouts={"finish_s": 300, "idle_s": 300})
