"""``rtt notebooks``: execute the research notebooks and render them to HTML (``render``), so their
tables and figures can be read without Jupyter (``reports/notebooks/*.html``, linked from the
README).  Execution uses nbclient with this Python as the kernel; the renderings leave audio
players out (the clips are FLEURS data, which is not copied into the project)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from rtt.errors import BackendUnavailable

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
DEFAULT_OUT = REPO / "reports" / "notebooks"


def execute(path: Path, env: dict[str, str] | None = None, timeout_s: int = 600) -> Any:
    """Run ``path`` top to bottom in a fresh kernel (cwd ``notebooks/``, as JupyterLab runs it) and
    return the executed notebook; ``env`` is set for the kernel (``RTT_NB_*`` parameters)."""
    try:
        import nbclient
        import nbformat
    except ImportError as exc:
        raise BackendUnavailable("notebooks need the research extra: pip install 'rtt[research]'") from exc
    book = nbformat.read(path, as_version=4)
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        nbclient.NotebookClient(book, timeout=timeout_s, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return book


# One small stylesheet for every rendering (nbconvert's lab template would inline ~7,000 lines of
# JupyterLab CSS into each page).
STYLE = """body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; }
.jp-InputArea pre, .jp-OutputArea pre { background: #f6f8fa; padding: .6em; overflow-x: auto; font-size: 13px; }
.jp-InputPrompt, .jp-OutputPrompt { display: none; }
table.dataframe { border-collapse: collapse; font-size: 13px; margin: .5em 0; }
table.dataframe th, table.dataframe td { border: 1px solid #ddd; padding: 2px 6px; text-align: right; }
table.dataframe thead th { background: #f0f0f0; }
img { max-width: 100%; }
"""
PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}</title><link rel="stylesheet" href="notebook.css"></head>
<body>
<p><em>Rendered by <code>rtt notebooks render</code> from <code>notebooks/{name}</code> on the committed reports.</em></p>
{body}
</body></html>
"""


def render(names: list[str] | None = None, out: Path = DEFAULT_OUT) -> list[Path]:
    from nbconvert import HTMLExporter

    out.mkdir(parents=True, exist_ok=True)
    (out / "notebook.css").write_text(STYLE, encoding="utf-8")
    paths = [NOTEBOOKS / n for n in names] if names else sorted(NOTEBOOKS.glob("*.ipynb"))
    written = []
    for path in paths:
        book = execute(path, {"RTT_NB_AUDIO": "0", "RTT_NB_RUN": "0"})
        body, _ = HTMLExporter(template_name="basic").from_notebook_node(book)
        target = out / path.with_suffix(".html").name
        target.write_text(PAGE.format(title=path.stem.replace("_", " "), name=path.name, body=body), encoding="utf-8")
        written.append(target)
        print(f"wrote {target.relative_to(REPO) if target.is_relative_to(REPO) else target}", file=sys.stderr)
    return written


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("notebooks", help="execute the research notebooks and render them to HTML")
    nsub = p.add_subparsers(dest="notebooks_command", metavar="ACTION")
    r = nsub.add_parser("render", help="execute notebooks/*.ipynb on the committed reports into reports/notebooks/")
    r.add_argument("names", nargs="*", help="notebook file names (default: all)")
    r.add_argument("--out", type=Path, default=DEFAULT_OUT)
    r.set_defaults(func=lambda a: (render(a.names or None, a.out), 0)[1])
    p.set_defaults(func=lambda a: (p.print_help(), 2)[1])
