"""Library errors (``rtt.errors.RttError``) as protocol errors with a stable code."""

from __future__ import annotations

from typing import Any

from rtt.errors import RttError
from rtt.protocol import ProtocolError


def rtt_error_to_protocol(exc: RttError, seq: int | None = None) -> ProtocolError:
    code = exc.code
    if code == "INVALID_INPUT" and str(exc.details.get("field", "")).startswith("glossary"):
        code = "INVALID_GLOSSARY"
    return ProtocolError(code, exc.message, seq, exc.retry_after_ms)


def parse_glossary(raw: Any, seq: int | None = None) -> Any:
    """A wire glossary/dictionary (JSON object) as an ``rtt.text.glossary.Glossary``; None stays None."""
    if raw is None:
        return None
    from rtt.text.glossary import Glossary

    try:
        return Glossary.from_json(raw)
    except RttError as exc:
        raise ProtocolError("INVALID_GLOSSARY", exc.message, seq) from None
