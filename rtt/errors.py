"""Structured errors shared by the library, the CLI and the service.

Every error carries a stable machine-readable ``code`` so that a CLI prints it and the
service maps it to a protocol ``error`` message or an HTTP status without guessing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RttError(Exception):
    """Base class: ``code`` is stable, ``message`` is for humans."""

    message: str
    code: str = "INTERNAL"
    details: dict[str, Any] = field(default_factory=dict)
    retry_after_ms: int | None = None

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        if self.retry_after_ms is not None:
            body["retry_after_ms"] = self.retry_after_ms
        return body


class InvalidInput(RttError):
    def __init__(self, message: str, code: str = "INVALID_INPUT", **details: Any) -> None:
        super().__init__(message, code, dict(details))


class UnsupportedLanguage(RttError):
    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message, "UNSUPPORTED_LANGUAGE", dict(details))


class ModelMissing(RttError):
    """A model (or the registry package that ships it) is not available locally."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message, "MODEL_MISSING", dict(details))


class BackendUnavailable(RttError):
    """A backend's runtime (a binary, a Python package) is not installed."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message, "BACKEND_UNAVAILABLE", dict(details))


class ConfigError(RttError):
    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message, "INVALID_CONFIG", dict(details))
