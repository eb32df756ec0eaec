"""Sentence splitting for synthesis: the first sentence's audio can play while the rest is made."""

from __future__ import annotations

import re

_END = re.compile(r"(?<=[.!?。！？])\s+")


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _END.split(text.strip()) if s.strip()]
