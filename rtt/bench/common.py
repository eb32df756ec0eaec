"""Small helpers shared by the benchmarks: percentiles, machine description, JSON writing."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np


def percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def machine() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "processor": platform.processor() or platform.machine(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def machine_line(m: dict[str, Any]) -> str:
    """The machine a report ran on, as its Markdown's last line."""
    return "Machine: " + ", ".join(f"{k} {v}" for k, v in m.items()) + "."


def load_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.is_file() else {}


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False))
    os.replace(tmp, path)
