"""Quality signals that need no reference, cheap enough for every live final (the service counts
them per direction; ``deploy/alerts.yml`` alerts when their rates rise).

* **untranslated**: the output is empty or repeats the source (an engine that echoes its input,
  a misrouted direction);
* **wrong language**: the output confidently reads as another language than the target (text
  language ID on 3+ words; a model that drifted into the source language or into English).
"""

from __future__ import annotations

from rtt.asr.normalize import normalize_text
from rtt.errors import InvalidInput

LID_MIN_WORDS = 3
LID_MIN_PROB = 0.9


def untranslated(text: str, source: str) -> bool:
    out = normalize_text(text)
    return not out or (out == normalize_text(source) and any(c.isalpha() for c in out))


def wrong_language(text: str, target_lang: str) -> bool:
    if len(text.split()) < LID_MIN_WORDS:
        return False
    from rtt.text.langid import default_identifier

    ident = default_identifier()
    if target_lang not in ident.languages:
        return False
    try:
        code, prob = ident.identify(text)
    except InvalidInput:  # no letters
        return False
    return code != target_lang and prob >= LID_MIN_PROB
