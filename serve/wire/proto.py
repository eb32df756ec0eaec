"""Protobuf (``serve/realtime.proto``) to and from the protocol's pydantic messages.

``Hello`` maps onto the JSON hello by field name, so a session option added to
``SessionConfig``/``Features`` and to the proto's ``Hello`` needs no code here.  Proto3 has no
null: an empty string is unset, a ``uint32`` standing for an optional bool is 0 = unset,
1 = on, 2 = off, and ``*_json`` strings carry JSON objects.
"""

from __future__ import annotations

import base64
import json
import typing
from functools import cache
from typing import Any

from rtt.protocol import AudioFormat, Control, Features, Hello, InputText, ProtocolError, parse_client_message
from serve.grpc_gen import realtime_pb2 as pb

TRI_STATE = {0: None, 1: True, 2: False}
# The first three features predate features_set, which says whether they were sent at all.
LEGACY_FEATURES = ("vad", "partial_results", "tts")
_UINT32 = 13  # FieldDescriptor.TYPE_UINT32


@cache
def _optional_bool(model: type[Any], name: str) -> bool:
    field = model.model_fields.get(name)
    return field is not None and set(typing.get_args(field.annotation)) == {bool, type(None)}


def json_field(raw: str, name: str, seq: int | None) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise ProtocolError("INVALID_GLOSSARY", f"{name} is not valid JSON", seq) from None


def hello_from_proto(h: Any, seq: int | None) -> Hello:
    raw: dict[str, Any] = {"type": "hello", "version": h.version or 1}
    features: dict[str, Any] = {}
    audio: dict[str, Any] = {}
    for field in h.DESCRIPTOR.fields:
        name, value = field.name, getattr(h, field.name)
        if name in ("version", "features_set"):
            continue
        if field.label == field.LABEL_REPEATED:
            value = list(value) or None
        if name.endswith("_json"):
            name, value = name[: -len("_json")], json_field(value, name, seq)
        target = features if name in Features.model_fields else audio if name in AudioFormat.model_fields else raw
        model = Features if target is features else AudioFormat if target is audio else Hello
        if field.type == _UINT32 and _optional_bool(model, name):
            value = TRI_STATE.get(value)
        elif name in LEGACY_FEATURES and not h.features_set:
            continue
        if value is None or value == "" or (target is audio and not value):
            continue
        target[name] = value
    raw["features"], raw["audio"] = features, audio
    if seq is not None:
        raw["seq"] = seq
    msg = parse_client_message(raw)
    assert isinstance(msg, Hello)
    return msg


def client_from_proto(req: Any) -> Hello | InputText | Control:
    """One ``ClientMessage`` other than audio (whose bytes go to the session as they are)."""
    seq = req.seq if req.has_seq else None
    kind = req.WhichOneof("kind")
    if kind == "hello":
        return hello_from_proto(req.hello, seq)
    if kind == "text":
        raw_text: dict[str, Any] = {"type": "input_text", "text": req.text.text, "final": req.text.final}
        if seq is not None:
            raw_text["seq"] = seq
        msg = parse_client_message(raw_text)  # seq beyond 2**63-1 and the like: a ProtocolError
        assert isinstance(msg, InputText)
        return msg
    if kind == "control":
        c = req.control
        raw: dict[str, Any] = {"type": "control", "action": c.action}
        if seq is not None:
            raw["seq"] = seq
        if c.target_lang:
            raw["target_lang"] = c.target_lang
        if c.dictionary_json:
            raw["dictionary"] = json_field(c.dictionary_json, "dictionary_json", seq)
        if c.client_time:
            raw["client_time"] = c.client_time
        msg = parse_client_message(raw)
        assert isinstance(msg, Control)
        return msg
    raise ProtocolError("INVALID_MESSAGE", "empty ClientMessage (set hello, audio, text or control)", seq)


def to_proto(message: Any) -> Any:
    t = message.type
    m = message
    if t == "session.created":
        return pb.ServerMessage(created=pb.SessionCreated(
            session_id=m.session_id, resumed=m.resumed, last_seq=-1 if m.last_seq is None else m.last_seq,
            version=m.version if isinstance(m.version, int) else 1, server_time=m.server_time))
    if t == "ack":
        return pb.ServerMessage(ack=pb.Ack(seq=m.seq, duplicate=m.duplicate))
    if t in ("partial_asr", "final_asr"):
        final = t == "final_asr"
        return pb.ServerMessage(asr=pb.Asr(
            utterance_id=m.utterance_id, is_final=final, text=m.text, committed=getattr(m, "committed", m.text),
            tentative=getattr(m, "tentative", ""), language=m.language or "", start_ms=getattr(m, "start_ms", 0.0),
            end_ms=getattr(m, "end_ms", 0.0), at_ms=m.at_ms, speaker=getattr(m, "speaker", None) or "",
            words=[pb.Word(text=w.text, start_ms=w.start_ms, end_ms=w.end_ms, probability=w.probability or 0.0)
                   for w in getattr(m, "words", None) or ()]))
    if t == "revised_asr":
        return pb.ServerMessage(asr=pb.Asr(
            utterance_id=m.utterance_id, is_final=True, text=m.text, committed=m.text, language=m.language,
            at_ms=m.at_ms, revision_status=m.status, previous_text=m.previous_text, reason=m.reason,
            latency_ms=m.latency_ms))
    if t == "partial_translation":
        return pb.ServerMessage(translation=pb.Translation(
            utterance_id=m.utterance_id, is_final=False, text=m.text, committed=m.committed, tentative=m.tentative,
            source_read=m.source_read, at_ms=m.at_ms, target_lang=m.target_lang or ""))
    if t == "final_translation":
        return pb.ServerMessage(translation=pb.Translation(
            utterance_id=m.utterance_id, is_final=True, text=m.text, committed=m.text, source_text=m.source_text,
            source_lang=m.source_lang, target_lang=m.target_lang, latency_ms=m.latency_ms, at_ms=m.at_ms,
            revision_pending=m.revision_pending, speaker=m.speaker or ""))
    if t == "revised_translation":
        return pb.ServerMessage(translation=pb.Translation(
            utterance_id=m.utterance_id, is_final=True, text=m.text, committed=m.text, latency_ms=m.latency_ms,
            at_ms=m.at_ms, revision_status=m.status, previous_text=m.previous_text, reason=m.reason,
            target_lang=m.target_lang or ""))
    if t == "tts_audio":  # the bytes as the server holds them: no base64 on gRPC
        audio = m.audio if isinstance(m.audio, bytes) else base64.b64decode(m.audio)
        opus = m.encoding == "opus"
        return pb.ServerMessage(tts=pb.Tts(
            utterance_id=m.utterance_id, chunk_index=m.chunk_index, pcm16=b"" if opus else audio,
            opus=audio if opus else b"", encoding=m.encoding, sample_rate=m.sample_rate, is_last=m.is_last,
            at_ms=m.at_ms, target_lang=m.target_lang or ""))
    if t == "pong":
        return pb.ServerMessage(pong=pb.Pong(seq=m.seq or 0, client_time=m.client_time or 0.0,
                                             server_time=m.server_time))
    if t == "drain":
        return pb.ServerMessage(drain=pb.Drain(reason=m.reason, retry_after_ms=m.retry_after_ms,
                                               queue_depth=m.queue_depth))
    if t == "error":
        return pb.ServerMessage(error=pb.Error(
            code=m.code, message=m.message, retry_after_ms=m.retry_after_ms or 0, has_seq=m.seq is not None,
            seq=m.seq or 0, fatal=m.fatal))
    if t == "session.ended":
        return pb.ServerMessage(ended=pb.SessionEnded(session_id=m.session_id, reason=m.reason))
    if t == "notice":
        return pb.ServerMessage(notice=pb.Notice(code=m.code, message=m.message))
    if t in ("speech_started", "speech_stopped"):
        return pb.ServerMessage(speech=pb.Speech(utterance_id=m.utterance_id, started=t == "speech_started",
                                                 at_ms=m.at_ms))
    raise ValueError(f"no protobuf form for {t}")
