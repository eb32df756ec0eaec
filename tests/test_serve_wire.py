"""The wire layer maps every wire form of a session option onto the one record, by name."""

from __future__ import annotations

import dataclasses

import pytest

from rtt.pipeline.options import SessionOptions
from rtt.protocol import ProtocolError, SessionConfig, parse_client_message
from serve.grpc_gen import realtime_pb2 as pb
from serve.wire import design
from serve.wire.options import OPTION_NAMES, flatten, options_from_config
from serve.wire.proto import hello_from_proto

# Wire fields that are not session options: the glossary is parsed into the record's glossary
# field, and mono is the only channel count (checked at the edge).
NOT_OPTIONS = {"channels"}
PROTO_ONLY = {"version", "session_id", "features_set", "glossary_json"}


def test_every_wire_option_is_a_record_field() -> None:
    wire = set(flatten(SessionConfig(target_lang="en")))
    assert wire - NOT_OPTIONS <= OPTION_NAMES, wire - NOT_OPTIONS - OPTION_NAMES


def test_every_grpc_hello_field_maps_onto_the_record() -> None:
    names = {f.name for f in pb.Hello.DESCRIPTOR.fields} - PROTO_ONLY
    renamed = {"encoding": "audio_format"}
    assert {renamed.get(n, n) for n in names} <= OPTION_NAMES


def test_the_three_wire_forms_give_the_same_record() -> None:
    v1 = parse_client_message({"type": "hello", "source_lang": "es", "target_lang": "en", "tier": "standard",
                               "features": {"vad": True, "partial_results": True, "refinement": False}})
    flat, ignored = design.hello_to_v1({"type": "hello", "version": "2026-05-01", "session": {
        "source_lang": "es", "target_lang": "en", "tier": "standard", "features": ["vad", "partial_results"]}})
    flat["features"]["refinement"] = False
    dialect = parse_client_message(flat)
    grpc = hello_from_proto(pb.Hello(source_lang="es", target_lang="en", tier="standard", features_set=True,
                                     vad=True, partial_results=True, refinement=2), None)
    records = [dataclasses.asdict(options_from_config(h)) for h in (v1, dialect, grpc)]
    assert records[0] == records[1] == records[2] and not ignored
    assert records[0]["refinement"] is False and records[0]["tier"] == "standard"


def test_the_record_is_the_one_validator() -> None:
    with pytest.raises(ProtocolError) as err:
        options_from_config(SessionConfig(source_lang="es", target_lang="es"))
    assert err.value.code == "UNSUPPORTED_LANGUAGE"
    with pytest.raises(ProtocolError) as err:
        options_from_config(SessionConfig(target_lang="en", policy="wait-0"))
    assert err.value.code == "INVALID_INPUT"
    assert SessionOptions().word_timestamps is False  # one default everywhere
