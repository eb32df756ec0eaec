"""Quality signals that need no reference, cheap enough for every live final (the service counts
them per direction; ``deploy/alerts.yml`` alerts when their rates rise).

* **untranslated**: the output is empty or repeats the source (an engine that echoes its input,
  a misrouted direction);
* **wrong language**: the output confidently reads as another language than the target (text
  language ID on 3+ words, the test the ASR commit guards use; a model that drifted into the
  source language or into English).
"""

from __future__ import annotations

from rtt.asr.normalize import normalize_text
from rtt.text.langid import reads_as_other_language


def untranslated(text: str, source: str) -> bool:
    out = normalize_text(text)
    return not out or (out == normalize_text(source) and any(c.isalpha() for c in out))


def wrong_language(text: str, target_lang: str) -> bool:
    return reads_as_other_language(text.split(), target_lang)
