"""The research notebooks execute top to bottom (nbclient, the kernel in notebooks/ as JupyterLab
runs it) on the committed reports, and each shows the tables, figures and audio players it is
for: outputs are inspected, not just that the cells ran.  ``make lab`` starts JupyterLab."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

from rtt.cli.notebooks_cmd import NOTEBOOKS, execute  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
# notebook -> (tables, figures, text every reader must find)
EXPECTED = {
    "models_and_tiers.ipynb": (3, 2, ["apertium", "gemma-270m", "accurate-finals"]),
    "policies.ipynb": (1, 2, ["local-agreement-2", "full-sentence", "best"]),
    "speech_session.ipynb": (3, 1, ["RevisedTranslation", "PartialAsr"]),
    "capacity.ipynb": (2, 4, ["batched", "unbatched"]),
    "recognition_vs_peer.ipynb": (2, 2, ["whisperlivekit", "committed_word_latency_ms"]),
    "canary_review.ipynb": (3, 1, ["NO-GO", "paired-bs"]),
}


def _outputs(book) -> tuple[int, int, int, str]:
    tables = figures = audio = 0
    text = []
    for cell in book.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            assert out.get("output_type") != "error", (out.get("ename"), out.get("evalue"))
            data = out.get("data", {})
            html = data.get("text/html", "")
            tables += "<table" in html
            figures += "image/png" in data
            audio += "<audio" in html
            text += [html, data.get("text/plain", ""), data.get("text/markdown", ""), out.get("text", "")]
    return tables, figures, audio, "\n".join(text)


def test_every_notebook_is_checked() -> None:
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_shows_its_tables_and_figures(name: str) -> None:
    audio_on = name == "speech_session.ipynb" and SHARED.is_dir()
    book = execute(NOTEBOOKS / name, {"RTT_NB_RUN": "0", "RTT_NB_AUDIO": "1" if audio_on else "0"})
    tables, figures, audio, text = _outputs(book)
    want_tables, want_figures, words = EXPECTED[name]
    assert tables >= want_tables and figures >= want_figures, (tables, figures)
    for word in words:
        assert word in text, word
    if audio_on:  # two clips and two synthesized translations
        assert audio >= 4, audio


def test_renderings_are_committed_for_every_notebook() -> None:
    rendered = REPO / "reports" / "notebooks"
    for name in EXPECTED:
        html = (rendered / name.replace(".ipynb", ".html")).read_text(encoding="utf-8")
        assert "<table" in html and "image/png" in html and "<audio" not in html, name


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_make_lab_starts_jupyterlab_on_the_notebooks() -> None:
    import httpx

    port = _free_port()
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")
    proc = subprocess.Popen(["make", "--no-print-directory", "lab-server", f"LAB_PORT={port}",
                             "LAB_ARGS=--IdentityProvider.token= --ServerApp.password="],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/lab", timeout=5)
                break
            except httpx.HTTPError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read().decode()[-2000:] if proc.stdout else ""
                time.sleep(0.5)
        assert r.status_code == 200 and "JupyterLab" in r.text
        tree = httpx.get(f"http://127.0.0.1:{port}/api/contents", timeout=5).json()
        assert {"speech_session.ipynb", "canary_review.ipynb"} <= {c["name"] for c in tree["content"]}
        specs = httpx.get(f"http://127.0.0.1:{port}/api/kernelspecs", timeout=5).json()
        assert "python3" in specs["kernelspecs"]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        proc.wait(30)
