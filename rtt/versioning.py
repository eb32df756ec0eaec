"""One rule for every versioned file format (configs, experiments, suites, serve settings):
a document states the schema version it was written for, and a version this code does not
know is refused with a message naming both, instead of being half-understood."""

from __future__ import annotations


def require_version(kind: str, value: int, supported: int) -> int:
    if value != supported:
        raise ValueError(f"{kind} version {value} is not supported (expected {supported})")
    return value
