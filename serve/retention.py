"""Opt-in retention of session transcripts (finals only), with a TTL and deletion on request.

Off by default: the service then keeps no audio and no text beyond the life of a request or a
session.  When on (``serve.retention.transcripts: true``) each final translation (with its
transcript, both as revised by the refinement pass where it revised them) is kept in process memory for ``ttl_s`` and removed by ``DELETE /v1/sessions/{id}`` or ``DELETE /v1/data``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class _Transcript:
    owner: str
    entries: list[tuple[float, dict[str, Any]]] = field(default_factory=list)  # (expiry, entry)


class TranscriptStore:
    def __init__(self, enabled: bool, ttl_s: float) -> None:
        self.enabled = enabled
        self.ttl_s = ttl_s
        self._items: dict[str, _Transcript] = {}

    def add(self, session_id: str, owner: str, entry: dict[str, Any]) -> None:
        if not self.enabled:
            return
        item = self._items.setdefault(session_id, _Transcript(owner))
        item.entries.append((time.time() + self.ttl_s, entry))

    def revise(self, session_id: str, utterance_id: int, target_lang: str | None = None, **changes: Any) -> None:
        """What the refinement pass made of a kept final replaces it (subtitles show what stands);
        ``target_lang``: only that listener language's entry (a revised translation)."""
        item = self._items.get(session_id)
        for _, entry in item.entries if item is not None else ():
            if entry.get("utterance_id") == utterance_id and target_lang in (None, entry.get("target_lang")):
                entry.update(changes)

    def get(self, session_id: str, owner: str) -> list[dict[str, Any]] | None:
        self.purge_expired()
        item = self._items.get(session_id)
        if item is None or item.owner != owner:
            return None
        return [e for _, e in item.entries]

    def delete_session(self, session_id: str, owner: str) -> bool:
        item = self._items.get(session_id)
        if item is None or item.owner != owner:
            return False
        del self._items[session_id]
        return True

    def delete_owner(self, owner: str) -> int:
        ids = [sid for sid, item in self._items.items() if item.owner == owner]
        for sid in ids:
            del self._items[sid]
        return len(ids)

    def purge_expired(self) -> None:
        now = time.time()
        for sid in list(self._items):
            item = self._items[sid]
            item.entries = [(exp, e) for exp, e in item.entries if exp > now]
            if not item.entries:
                del self._items[sid]

    def count(self) -> int:
        return sum(len(i.entries) for i in self._items.values())
