"""Checks on text before it reaches an engine."""

from __future__ import annotations

from rtt.errors import InvalidInput


def check_unicode(text: str, field: str = "text") -> str:
    """Refuse a lone surrogate (``"\\ud800"`` is valid JSON but not Unicode text): engines that
    encode to UTF-8 (Apertium's pipe, llama.cpp's tokenizer) would fail on it mid-request."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInput(f"{field} contains a lone surrogate at position {exc.start} (not valid Unicode)",
                           field=field) from None
    return text
