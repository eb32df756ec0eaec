"""Unit tests of the service's building blocks: wire parsing, seq tracking, outbox, audio checks,
limit stores, settings."""

from __future__ import annotations

import pytest

from rtt.config import load_config
from rtt.errors import ConfigError
from rtt.protocol import (
    ERROR_CODES,
    FinalAsr,
    FinalTranslation,
    Hello,
    PartialTranslation,
    ProtocolError,
    Word,
    parse_client_message,
    parse_server_message,
    parse_session_config,
)
from serve.audio import check_audio_frame, opus_packet_ms
from serve.auth import Principal
from serve.limits import MemoryLimitStore, RateLimiter
from serve.queues import Outbox, SeqTracker, SlowConsumer
from serve.settings import LimitSettings, load_serve_settings


def test_hello_roundtrip_and_defaults():
    msg = parse_client_message('{"type": "hello", "target_lang": "en"}')
    assert isinstance(msg, Hello)
    assert msg.source_lang == "auto" and msg.version == 1 and msg.features.vad and not msg.features.tts
    assert not msg.features.word_timestamps  # opt-in: alignment costs CPU when finals are due
    assert msg.audio.encoding == "pcm16le" and msg.audio.sample_rate == 16000
    # Unknown fields are ignored (forward compatibility), wrong types are not.
    assert parse_client_message('{"type": "hello", "target_lang": "en", "future": 1}').target_lang == "en"
    with pytest.raises(ProtocolError) as exc:
        parse_client_message('{"type": "hello", "target_lang": "en", "features": {"vad": "yes"}}')
    assert exc.value.code == "INVALID_FIELD"


def test_structured_glossary_shape_is_accepted():
    msg = parse_client_message({"type": "hello", "target_lang": "en",
                                "glossary": {"protected": ["AcmeCloud"], "forced": {"hola": "hi"}}})
    assert msg.glossary["forced"] == {"hola": "hi"}


def test_seq_is_echoed_on_errors():
    with pytest.raises(ProtocolError) as exc:
        parse_client_message('{"type": "input_text", "seq": 9}')
    assert exc.value.code == "MISSING_FIELD" and exc.value.seq == 9


def test_session_config_body_errors():
    with pytest.raises(ProtocolError) as exc:
        parse_session_config(b'{"target_lang": 3}')
    assert exc.value.code == "INVALID_FIELD" and "target_lang" in exc.value.message
    with pytest.raises(ProtocolError):
        parse_session_config(b"[]")


def test_server_messages_parse_back():
    msg = FinalTranslation(utterance_id=1, text="hi", source_text="hola", source_lang="es", target_lang="en",
                           latency_ms={"mt": 1.0}, at_ms=5)
    again = parse_server_message(msg.model_dump_json())
    assert again == msg
    asr = FinalAsr(utterance_id=1, text="hola amigos", language="es", start_ms=0, end_ms=900, at_ms=1200,
                   words=[Word(text="hola", start_ms=0, end_ms=400, probability=0.9),
                          Word(text="amigos", start_ms=450, end_ms=900)])
    assert parse_server_message(asr.model_dump_json()) == asr
    assert parse_server_message(asr.model_copy(update={"words": None}).model_dump_json()).words is None


def test_every_error_code_has_a_status():
    assert all(100 <= status < 600 for status, _ in ERROR_CODES.values())


def test_seq_tracker():
    t = SeqTracker(window=3)
    assert not t.is_duplicate(None)
    for s in (1, 2, 5):
        assert not t.is_duplicate(s)
        t.mark(s)
    assert t.is_duplicate(5) and t.is_duplicate(1)
    with pytest.raises(ProtocolError) as exc:
        t.is_duplicate(4)
    assert exc.value.code == "SEQ_OUT_OF_ORDER"
    t.mark(6)  # evicts 1
    assert t.is_duplicate(1)  # older than the window: never processed twice
    assert not t.is_duplicate(7)


async def test_outbox_keeps_finals_and_newest_partials():
    box = Outbox(max_items=3, max_pending_finals=4)

    def partial(utt: int, text: str) -> PartialTranslation:
        return PartialTranslation(utterance_id=utt, text=text, committed="", tentative=text, source_read=1, at_ms=0)

    def final(utt: int) -> FinalTranslation:
        return FinalTranslation(utterance_id=utt, text="f", source_text="s", source_lang="es", target_lang="en",
                                at_ms=0)

    box.put(partial(0, "a"))
    box.put(partial(0, "ab"))  # supersedes "a"
    box.put(final(0))
    box.put(partial(1, "x"))
    box.put(partial(2, "y"))  # full: the oldest partial goes
    texts = []
    cursor = 0
    while box.pending():
        eid, msg = await box.next_after(cursor)
        texts.append((msg.type, msg.text))
        box.confirm(eid)
        cursor = eid
    assert texts == [("final_translation", "f"), ("partial_translation", "x"), ("partial_translation", "y")]
    assert box.dropped == 2
    for i in range(4):
        box.put(final(i))
    with pytest.raises(SlowConsumer):
        box.put(final(9))


async def test_outbox_unconfirmed_entries_survive_for_the_next_reader():
    box = Outbox(8, 8)
    box.put(FinalTranslation(utterance_id=0, text="f", source_text="s", source_lang="es", target_lang="en", at_ms=0))
    eid, _ = await box.next_after(0)  # read but never confirmed (the connection died mid-send)
    again = await box.next_after(0)
    assert again is not None and again[0] == eid
    box.close()
    box.confirm(eid)
    assert await box.next_after(eid) is None


@pytest.mark.parametrize(
    ("packet", "ms"),
    [
        (bytes([0xF8, 0xFF, 0xFE]), 20.0),  # CELT FB 20 ms, code 0 (what libopus makes by default)
        (bytes([0x08, 0x00]), 20.0),  # SILK NB 20 ms
        (bytes([0x1B, 0x02]), 120.0),  # SILK NB 60 ms, code 3 with 2 frames
        (bytes([0xFC | 1, 0, 0]), 40.0),  # CELT 20 ms, code 1 (two equal frames)
    ],
)
def test_opus_packet_duration(packet, ms):
    assert opus_packet_ms(packet) == ms


def test_audio_frame_checks():
    check_audio_frame(b"\x00\x00", "pcm16le", 10)
    for data, fmt, code in [(b"\x00", "pcm16le", "INVALID_AUDIO"), (b"", "pcm16le", "INVALID_AUDIO"),
                            (b"\x00" * 12, "pcm16le", "FRAME_TOO_LARGE"), (bytes([0x03]), "opus", "INVALID_AUDIO"),
                            (bytes([0x1B, 0x05]), "opus", "INVALID_AUDIO")]:
        with pytest.raises(ProtocolError) as exc:
            check_audio_frame(data, fmt, 10)
        assert exc.value.code == code


async def test_memory_limit_store():
    limiter = RateLimiter(MemoryLimitStore(), LimitSettings(concurrent_sessions=1, requests_per_minute=2,
                                                            audio_seconds_per_minute=1.0))
    p = Principal("k:abc", "key")
    await limiter.check_request(p)
    await limiter.check_request(p)
    with pytest.raises(ProtocolError) as exc:
        await limiter.check_request(p)
    assert exc.value.code == "RATE_LIMIT" and 0 < exc.value.retry_after_ms <= 60_000
    await limiter.check_request(Principal("k:other", "key"))  # limits are per key
    await limiter.open_session(p, "s1")
    with pytest.raises(ProtocolError):
        await limiter.open_session(p, "s2")
    await limiter.close_session(p, "s1")
    await limiter.open_session(p, "s2")
    await limiter.check_audio(p, 0.9)
    with pytest.raises(ProtocolError):
        await limiter.check_audio(p, 0.2, seq=3)


def test_settings_from_config_and_env(monkeypatch, tmp_path):
    cfg = load_config()
    cfg.serve = {"api_keys": ["a"], "limits": {"requests_per_minute": 7}}
    settings = load_serve_settings(cfg, port=9000)
    assert settings.port == 9000 and settings.limits.requests_per_minute == 7 and settings.host == "127.0.0.1"
    assert settings.all_api_keys({"RTT_API_KEYS": "b, c,,"}) == ["a", "b", "c"]
    cfg.serve = {"limits": {"requests_per_minute": 0}}
    with pytest.raises(ConfigError, match="requests_per_minute"):
        load_serve_settings(cfg)
    cfg.serve = {"tls": {"certfile": str(tmp_path / "missing.pem"), "keyfile": str(tmp_path / "k.pem")}}
    with pytest.raises(ConfigError, match="does not exist"):
        load_serve_settings(cfg)
    cfg.serve = {"nonsense": 1}
    with pytest.raises(ConfigError):
        load_serve_settings(cfg)
