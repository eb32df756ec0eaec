"""The design article's dialect of the realtime protocol (``version: "2026-05-01"``).

Its messages are the published interface, accepted exactly as the article writes them::

    {"type": "hello", "version": "2026-05-01",
     "session": {"source_lang": "es", "target_lang": "en", "tts_voice": "en-US-female-1",
                 "features": ["vad", "partial_results"]}}
    {"type": "input_audio", "seq": 12, "format": "pcm16le", "sample_rate": 16000, "data": "<base64>"}
    {"type": "control", "action": "commit"}

Inbound, this module rewrites them into version 1's shapes (one parser, one validator behind
it); outbound, it renames the fields the design names differently (``data``, ``format``) and
leaves the rest as extra fields.  Which dialect a connection speaks is decided by its hello.
"""

from __future__ import annotations

from typing import Any

from rtt.protocol import DESIGN_VERSION, Features, ProtocolError

# Feature names of the list form; a name not here is ignored and reported in session.created.
FEATURE_NAMES = tuple(Features.model_fields)
# Not listed means off, except refinement and masking, which then follow the server's
# configuration (the design's list predates them; a server that masks PII keeps masking for a
# client that does not list it; the object form turns them off).
_SERVER_DECIDES = ("refinement", "pii_masking", "profanity_masking")
_UNLISTED_DEFAULT: dict[str, bool | None] = {name: (None if name in _SERVER_DECIDES else False)
                                             for name in FEATURE_NAMES}
# session keys of the design hello that version 1 keeps elsewhere
_AUDIO_KEYS = {"format": "encoding", "sample_rate": "sample_rate"}


def is_design_hello(obj: dict[str, Any]) -> bool:
    return obj.get("type") == "hello" and obj.get("version") == DESIGN_VERSION


def features_from_list(names: list[Any]) -> tuple[dict[str, bool | None], list[str]]:
    """``["vad", "partial_results"]`` as version 1's ``features`` object, plus the ignored names."""
    listed = {str(n) for n in names}
    features = {name: (True if name in listed else default) for name, default in _UNLISTED_DEFAULT.items()}
    ignored = sorted(listed - set(FEATURE_NAMES))
    return features, ignored


def hello_to_v1(obj: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A design hello as a flat version-1 hello (version kept), and the feature names it ignored."""
    session = obj.get("session", {})
    if not isinstance(session, dict):
        raise ProtocolError("INVALID_FIELD", "session: must be an object", _seq(obj))
    flat: dict[str, Any] = {k: v for k, v in obj.items() if k != "session"}
    ignored: list[str] = []
    for key, value in session.items():
        if key == "features" and isinstance(value, list):
            flat["features"], ignored = features_from_list(value)
        elif key in _AUDIO_KEYS:
            flat.setdefault("audio", {})[_AUDIO_KEYS[key]] = value
        elif key == "dictionary":  # the REST body's name for the glossary
            flat["glossary"] = value
        else:
            flat[key] = value
    return flat, ignored


def client_to_v1(obj: dict[str, Any]) -> dict[str, Any]:
    """A design-dialect message after hello in version 1's shape."""
    if obj.get("type") == "input_audio" and "data" in obj and "audio" not in obj:
        obj = {**obj, "audio": obj["data"]}
        del obj["data"]
    return obj


def render(message: Any) -> dict[str, Any]:
    """A server message with the design's field names (extra fields stay)."""
    body: dict[str, Any] = message.model_dump(mode="json", exclude_none=True)
    if body.get("type") == "tts_audio":
        body["data"] = body.pop("audio")
        body["format"] = body.pop("encoding")
    return body


def _seq(obj: dict[str, Any]) -> int | None:
    seq = obj.get("seq")
    return seq if isinstance(seq, int) and not isinstance(seq, bool) else None
