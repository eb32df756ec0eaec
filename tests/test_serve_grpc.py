"""gRPC RealtimeTranslate.Stream over a real port (plumbing backend), and the generated code."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest

from serve.gen_grpc import FILES, descriptor_from_proto, generate
from serve.grpc_gen import realtime_pb2 as pb
from serve.grpc_gen import realtime_pb2_grpc as pb_grpc
from tests.serve_fixtures import pcm_silence, pcm_tone, serve_settings, start_server

KEY = "grpc-key-123456"


@pytest.fixture(scope="module")
def server():
    srv = start_server(settings=serve_settings(api_keys=[KEY]))
    yield srv
    srv.stop()


def test_generated_code_matches_proto():
    from google.protobuf import descriptor_pb2

    committed = descriptor_pb2.FileDescriptorProto.FromString(pb.DESCRIPTOR.serialized_pb)
    current = descriptor_pb2.FileDescriptorProto.FromString(descriptor_from_proto())
    assert committed == current, "serve/grpc_gen is stale: run python -m serve.gen_grpc"


def test_generation_is_portable(tmp_path: Path):
    written = generate(tmp_path)
    assert {p.name for p in written} == set(FILES)
    for path in written:
        text = path.read_text()
        assert "ValidateProtobufRuntimeVersion" not in text and "_registered_method=True" not in text
        assert "import realtime_pb2 as" not in text.replace("from serve.grpc_gen import realtime_pb2 as", "")


def hello(**kw) -> pb.ClientMessage:
    return pb.ClientMessage(hello=pb.Hello(source_lang=kw.pop("source_lang", "es"), target_lang="en", **kw))


async def run_stream(server, messages, key: str | None = KEY, gap_s: float = 0.0) -> list:
    async with grpc.aio.insecure_channel(server.grpc_target) as channel:
        stub = pb_grpc.RealtimeTranslateStub(channel)
        metadata = (("authorization", f"Bearer {key}"),) if key else ()

        async def requests():
            for m in messages:
                yield m
                if gap_s:
                    await asyncio.sleep(gap_s)

        return [m async for m in stub.Stream(requests(), metadata=metadata)]


def kinds(replies) -> list[str]:
    return [r.WhichOneof("kind") for r in replies]


async def test_text_stream_half_close_delivers_finals(server):
    replies = await run_stream(server, [
        hello(),
        pb.ClientMessage(seq=0, has_seq=True, text=pb.Text(text="hola a todos")),
        pb.ClientMessage(seq=1, has_seq=True, text=pb.Text(text="y buenas tardes", final=True)),
    ])
    assert kinds(replies)[0] == "created" and kinds(replies)[-1] == "ended"
    partials = [r.translation for r in replies if r.WhichOneof("kind") == "translation" and not r.translation.is_final]
    finals = [r.translation for r in replies if r.WhichOneof("kind") == "translation" and r.translation.is_final]
    assert partials and partials[0].committed == "[en] hello"
    assert [f.text for f in finals] == ["[en] hello to everyone and good afternoon"]
    assert "endpoint_to_final" in finals[0].latency_ms
    acks = [r.ack.seq for r in replies if r.WhichOneof("kind") == "ack"]
    assert acks == [0, 1]
    assert replies[-1].ended.reason == "client_end"


async def test_audio_stream(server):
    speech, quiet = pcm_tone(1.0), pcm_silence(0.5)
    frames = [pb.ClientMessage(audio=pb.Audio(data=speech[i:i + 3200])) for i in range(0, len(speech), 3200)]
    frames += [pb.ClientMessage(audio=pb.Audio(data=quiet[i:i + 3200])) for i in range(0, len(quiet), 3200)]
    replies = await run_stream(server, [hello(), *frames])
    asr = [r.asr for r in replies if r.WhichOneof("kind") == "asr"]
    assert any(not a.is_final for a in asr) and any(a.is_final and a.text.startswith("hola") for a in asr)
    assert any(r.WhichOneof("kind") == "speech" and r.speech.started for r in replies)
    finals = [r.translation for r in replies if r.WhichOneof("kind") == "translation" and r.translation.is_final]
    assert finals and finals[0].text.startswith("[en] hello")
    assert all(not a.words for a in asr)  # word times only on request


async def test_word_timestamps_on_request(server):
    speech, quiet = pcm_tone(1.0), pcm_silence(0.5)
    frames = [pb.ClientMessage(audio=pb.Audio(data=pcm[i:i + 3200])) for pcm in (speech, quiet)
              for i in range(0, len(pcm), 3200)]
    replies = await run_stream(server, [hello(word_timestamps=True), *frames])
    final = next(r.asr for r in replies if r.WhichOneof("kind") == "asr" and r.asr.is_final)
    assert [w.text for w in final.words] == final.text.split()
    assert final.words[1].start_ms == 500.0 and final.words[1].end_ms == 900.0


async def test_errors_keep_the_stream_usable(server):
    replies = await run_stream(server, [
        pb.ClientMessage(text=pb.Text(text="before hello")),
        hello(),
        pb.ClientMessage(audio=pb.Audio(data=b"\x01\x02\x03")),
        pb.ClientMessage(control=pb.Control(action="set_target_lang", target_lang="xx")),
        pb.ClientMessage(control=pb.Control(action="set_dictionary", dictionary_json="[1,2]")),
        pb.ClientMessage(control=pb.Control(action="fly")),
        pb.ClientMessage(),
        pb.ClientMessage(seq=4, has_seq=True, text=pb.Text(text="hola")),
        pb.ClientMessage(seq=4, has_seq=True, text=pb.Text(text="hola")),
        pb.ClientMessage(seq=2, has_seq=True, text=pb.Text(text="tarde")),
        pb.ClientMessage(control=pb.Control(action="ping", client_time=1.5)),
        pb.ClientMessage(text=pb.Text(text="gracias", final=True)),
    ])
    codes = [r.error.code for r in replies if r.WhichOneof("kind") == "error"]
    assert codes == ["HELLO_REQUIRED", "INVALID_AUDIO", "UNSUPPORTED_LANGUAGE", "INVALID_GLOSSARY", "INVALID_FIELD",
                     "INVALID_MESSAGE", "SEQ_OUT_OF_ORDER"]
    acks = [(r.ack.seq, r.ack.duplicate) for r in replies if r.WhichOneof("kind") == "ack"]
    assert acks == [(4, False), (4, True)]
    pong = next(r.pong for r in replies if r.WhichOneof("kind") == "pong")
    assert pong.client_time == 1.5 and pong.server_time > 0
    finals = [r.translation.text for r in replies if r.WhichOneof("kind") == "translation" and r.translation.is_final]
    assert finals == ["[en] hello thanks"]


async def test_tts_chunks(server):
    replies = await run_stream(server, [
        pb.ClientMessage(hello=pb.Hello(source_lang="es", target_lang="en", features_set=True, tts=True,
                                        partial_results=True, vad=True)),
        pb.ClientMessage(text=pb.Text(text="gracias", final=True)),
    ])
    tts = [r.tts for r in replies if r.WhichOneof("kind") == "tts"]
    assert [t.chunk_index for t in tts] == [0, 1] and tts[-1].is_last and len(tts[0].pcm16) == 2 * 2205


async def test_bad_hello(server):
    replies = await run_stream(server, [
        pb.ClientMessage(hello=pb.Hello(source_lang="es", target_lang="xx")),
        pb.ClientMessage(hello=pb.Hello(source_lang="es", target_lang="en", sample_rate=11025)),
        pb.ClientMessage(hello=pb.Hello(source_lang="es", target_lang="en", glossary_json="{nope")),
        hello(),
        pb.ClientMessage(text=pb.Text(text="gracias", final=True)),
    ])
    codes = [r.error.code for r in replies if r.WhichOneof("kind") == "error"]
    assert codes == ["UNSUPPORTED_LANGUAGE", "UNSUPPORTED_AUDIO_FORMAT", "INVALID_GLOSSARY"]
    assert any(r.WhichOneof("kind") == "translation" and r.translation.is_final for r in replies)


async def test_unauthenticated(server):
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await run_stream(server, [hello()], key=None)
    assert exc.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.aio.AioRpcError):
        await run_stream(server, [hello()], key="wrong")
