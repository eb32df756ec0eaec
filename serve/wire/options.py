"""A session's options from its wire form: the one mapping onto ``rtt.pipeline.options.SessionOptions``.

Every transport's hello (version 1 JSON, the design dialect, gRPC ``Hello``, ``POST
/v1/sessions``) is first parsed into ``rtt.protocol.SessionConfig``; this module flattens it by
field name onto the pipeline's record, so an option needs no mapping code of its own: it is a
field of ``SessionOptions``, a field of the wire model (``SessionConfig`` or its ``features``),
and, for gRPC, a field of ``Hello`` in ``realtime.proto``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from rtt.errors import RttError
from rtt.pipeline.options import SessionOptions
from rtt.protocol import SessionConfig
from serve.wire.errors import parse_glossary, rtt_error_to_protocol

# Wire names that differ from the record's (the wire keeps the names of the published protocol).
_RENAMED = {"encoding": "audio_format"}
# Nested wire objects whose fields are the record's fields.
_NESTED = ("features", "audio")
OPTION_NAMES = frozenset(f.name for f in dataclasses.fields(SessionOptions))


def flatten(cfg: SessionConfig) -> dict[str, Any]:
    """The config's fields by the record's names (nested objects flattened, renames applied)."""
    flat: dict[str, Any] = {}
    for name in type(cfg).model_fields:
        value = getattr(cfg, name)
        if name in _NESTED:
            for sub in type(value).model_fields:
                flat[_RENAMED.get(sub, sub)] = getattr(value, sub)
        else:
            flat[_RENAMED.get(name, name)] = value
    return flat


def options_from_config(cfg: SessionConfig, seq: int | None = None) -> SessionOptions:
    """Map and validate (``SessionOptions.validate`` is the single validator)."""
    fields = {k: v for k, v in flatten(cfg).items() if k in OPTION_NAMES}
    fields["glossary"] = parse_glossary(cfg.glossary, seq)
    try:
        return SessionOptions(**fields).validate()
    except RttError as exc:
        raise rtt_error_to_protocol(exc, seq) from None


def transcription_options(source_lang: str, target_lang: str, **options: Any) -> SessionOptions:
    """A REST clip's session: VAD-segmented, no partials, at the pipeline's rate; ``options``
    are further SessionOptions fields by name (word_timestamps, pii_masking, ...)."""
    try:
        return SessionOptions(source_lang=source_lang, target_lang=target_lang, partial_results=False,
                              **options).validate()
    except RttError as exc:
        raise rtt_error_to_protocol(exc) from None

