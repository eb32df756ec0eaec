"""What every research notebook starts with (``nb = setup()``): its parameters from the
environment, so a notebook runs unchanged in JupyterLab, in tests and in the HTML rendering.

* ``RTT_NB_RUN=1`` — re-run the notebook's experiment first, into a scratch folder, and read that;
* ``RTT_NB_LIMIT`` — how large the re-run is (segments, clips; default 5: small on a CPU box);
* ``RTT_NB_AUDIO=0`` — leave audio players out (the renderings do);
* ``RTT_NB_ROOT`` — the repository (default: the parent of ``notebooks/``, where JupyterLab runs).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class NotebookContext:
    root: Path
    run: bool
    limit: int
    audio: bool
    scratch: Path | None  # where a re-run writes (None: read the committed reports)

    def rtt(self, *args: object, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        """Run an rtt command with this kernel's Python (the project's environment)."""
        return subprocess.run([sys.executable, "-m", "rtt.cli.main", *map(str, args)], check=check, cwd=self.root)

    def output(self, name: str, committed: Path) -> Path:
        """Where the notebook reads ``name`` from: the re-run's scratch file, else ``committed``."""
        return self.scratch / name if self.scratch is not None else committed


def setup() -> NotebookContext:
    root = Path(os.environ.get("RTT_NB_ROOT", "..")).resolve()
    os.chdir(root)
    run = os.environ.get("RTT_NB_RUN") == "1"
    try:
        import pandas as pd

        pd.set_option("display.max_colwidth", 90)
        pd.set_option("display.precision", 3)
    except ImportError:
        pass
    return NotebookContext(root=root, run=run, limit=int(os.environ.get("RTT_NB_LIMIT", "5")),
                           audio=os.environ.get("RTT_NB_AUDIO", "1") == "1",
                           scratch=Path(tempfile.mkdtemp(prefix="rtt-nb-")) if run else None)
