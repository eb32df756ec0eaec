"""Log hygiene: no credentials and no personal data in log lines.

Uses ``rtt.text.masking.redact_for_logs`` when the text package provides it, else a local
regex for e-mail addresses, phone-like digit runs and card-like numbers.  Query strings that
carry credentials (``token``, ``key``, ``api_key``) are masked in access logs.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
# 9-19 digits with optional spaces, hyphens or parentheses (phones, card and account numbers);
# dots are excluded so that IP addresses and versions in access logs survive.
_DIGITS = re.compile(r"(?<![\w.])\+?\d(?:[\s-]?\(?\d\)?){8,18}(?![\w.])")
_SECRET_QS = re.compile(r"((?:token|key|api_key)=)(?!<redacted>)[^&\s\"']+", re.IGNORECASE)
_BEARER = re.compile(r"(Bearer\s+)\S+", re.IGNORECASE)


def _local_redact(text: str) -> str:
    return _DIGITS.sub("<number>", _EMAIL.sub("<email>", text))


def _pick_redactor() -> Callable[[str], str]:
    try:
        from rtt.text.masking import redact_for_logs
    except ImportError:
        return _local_redact
    # Log lines (tracebacks included) are not cut; only masked.
    return lambda text: redact_for_logs(text, max_chars=None)


def redact_secrets(text: str) -> str:
    return _BEARER.sub(r"\1<redacted>", _SECRET_QS.sub(r"\1<redacted>", text))


class RedactingFilter(logging.Filter):
    """Rewrites a record's rendered message; attached to the service's and uvicorn's loggers."""

    def __init__(self) -> None:
        super().__init__()
        self._pii = _pick_redactor()

    def filter(self, record: logging.LogRecord) -> bool:
        # Arguments are cleaned one by one (not merged into msg): formatters such as uvicorn's
        # access formatter read record.args positionally.
        if isinstance(record.args, tuple):
            record.args = tuple(self._clean_arg(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: self._clean_arg(v) for k, v in record.args.items()}
        try:
            rendered = record.getMessage()
        except Exception:  # a malformed record is reported by logging itself
            return True
        clean = self._clean(rendered)
        if clean != rendered:
            # Something sensitive spans the format string and its arguments: log it pre-rendered.
            record.msg, record.args = clean, None
        return True

    def _clean(self, text: str) -> str:
        return self._pii(redact_secrets(text))

    def _clean_arg(self, value: object) -> object:
        if value is None or isinstance(value, bool | int | float):
            return value
        return self._clean(value if isinstance(value, str) else str(value))


class ClientFaultFilter(logging.Filter):
    """uvicorn logs a client's invalid UTF-8 text frame with a traceback, although it already
    closed the connection with 1007 as it should: a client's fault, kept as one warning line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and str(record.msg).startswith("Invalid UTF-8 sequence"):
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def install_redaction(names: tuple[str, ...] = ("serve", "uvicorn", "uvicorn.access", "uvicorn.error")) -> None:
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
    error_log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, ClientFaultFilter) for f in error_log.filters):
        error_log.addFilter(ClientFaultFilter())
