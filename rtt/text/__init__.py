"""Text policies applied around machine translation: glossaries, protected formatting, PII and
profanity masking, formality, punctuation and language identification.  See
docs/text-features.md."""

from rtt.text.glossary import Glossary, merge_glossaries
from rtt.text.pipeline import (
    PreparedText,
    TextOptions,
    TextState,
    finish_target,
    finish_target_prefix,
    prepare_source,
)

__all__ = [
    "Glossary",
    "PreparedText",
    "TextOptions",
    "TextState",
    "finish_target",
    "finish_target_prefix",
    "merge_glossaries",
    "prepare_source",
]
