"""The browser's audio path: MediaRecorder's WebM/Ogg Opus streams in frames of any size over
WebSocket and gRPC, and tts_audio as Ogg Opus (``tts_format: "opus"``).

The plumbing server checks the edge (errors, accounting, the TTS encoding); the real models
(Whisper base, Silero VAD, the fast MT tier, Piper) check that the speech is heard."""

from __future__ import annotations

import asyncio
import base64
import io
import random

import grpc
import pytest

from rtt.client import RttClient
from serve.grpc_gen import realtime_pb2 as pb
from serve.grpc_gen import realtime_pb2_grpc as pb_grpc
from tests.serve_fixtures import SHARED_DATA, serve_settings, start_model_server, start_server
from tests.test_audio_container import chunks, remux

FLEURS = SHARED_DATA / "fleurs"
CLIP = FLEURS / "fleurs-es-002.ogg"
NEEDED = ("whisper-base-ct2", "silero-vad", "gemma3-270m-q4km-latin", "piper-en-us-joe-medium")
GARBAGE = b"\x00this is not a container" * 8

pytestmark = pytest.mark.skipif(not CLIP.is_file(), reason="shared FLEURS data not found")


def clip_seconds() -> float:
    import av

    with av.open(str(CLIP), "r") as container:
        return float(container.duration or 0) / 1e6


def ogg_opus_seconds(data: bytes) -> float:
    """Decodes a file with PyAV's own Ogg demuxer and its opus decoder (not the server's code)."""
    import av

    with av.open(io.BytesIO(data), "r") as container:
        stream = container.streams.audio[0]
        assert container.format.name == "ogg" and stream.codec_context.name == "opus"
        return sum(int(f.samples) for f in container.decode(stream)) / stream.rate


@pytest.fixture(scope="module")
def plumbing():
    srv = start_server(settings=serve_settings(timeouts={"resume_grace_s": 2.0}))
    yield srv
    srv.stop()


async def test_garbage_gets_structured_errors_and_the_stream_is_counted_whole(plumbing):
    data = remux(CLIP.read_bytes(), "webm", live="1")
    before = plumbing.state.metrics.audio_seconds._value.get()
    async with RttClient(plumbing.base_url, timeout_s=30) as client, \
            client.realtime(source_lang="es", target_lang="en", audio={"encoding": "webm-opus"}) as rt:
        await rt.send_audio(GARBAGE)  # before the header: refused, the session stays
        error = await rt.wait_for("error")
        # a stray frame between two Clusters is refused with its seq (inside an element, WebM
        # has no CRC to tell it from audio)
        boundary = data.find(bytes.fromhex("1F43B675"), len(data) // 2)
        for part in chunks(data[:boundary], seed=5):
            await rt.send_audio(part, binary=True)
        seq = await rt.send_audio(GARBAGE)
        stray = await rt.wait_for("error")
        for part in chunks(data[boundary:], seed=6):
            await rt.send_audio(part, binary=True)
        await rt.send_text("gracias", final=True)
        assert (await rt.wait_for("final_translation")).text
        await rt.end()
    assert error.code == "INVALID_AUDIO" and not error.fatal
    assert stray.code == "INVALID_AUDIO" and stray.seq == seq and not stray.fatal
    assert [m.code for m in rt.received if m.type == "error"] == ["INVALID_AUDIO", "INVALID_AUDIO"]
    counted = plumbing.state.metrics.audio_seconds._value.get() - before
    assert abs(counted - clip_seconds()) < 0.05, counted  # every accepted packet, each once


async def test_unknown_encodings_and_tts_formats_are_refused(plumbing):
    async with RttClient(plumbing.base_url, timeout_s=30) as client:
        for hello in ({"audio": {"encoding": "mp4-aac"}}, {"tts_format": "mp3"}):
            stream = client.realtime(source_lang="es", target_lang="en", **hello)
            await stream.connect(send_hello=False)
            await stream.send_json({"type": "hello", "source_lang": "es", "target_lang": "en", **hello})
            reply = await stream.recv()
            await stream.close()
            assert reply.type == "error" and reply.code == "UNSUPPORTED_AUDIO_FORMAT", (hello, reply)


async def test_tts_audio_comes_as_ogg_opus_files_on_request(plumbing):
    async with RttClient(plumbing.base_url, timeout_s=30) as client, \
            client.realtime(source_lang="es", target_lang="en", features={"tts": True}, tts_format="opus") as rt:
        assert rt.created.config.tts_format == "opus"
        await rt.send_text("gracias", final=True)
        tts = [await rt.wait_for("tts_audio") for _ in range(2)]
        await rt.end()
    assert all(c.encoding == "opus" and c.sample_rate == 48000 for c in tts)
    # the plumbing synthesizer's chunks are 100 ms of PCM each: each is a whole file of that length
    assert [round(ogg_opus_seconds(base64.b64decode(c.audio)), 2) for c in tts] == [0.1, 0.1]


async def test_tts_opus_over_grpc_is_in_the_opus_field(plumbing):
    async with grpc.aio.insecure_channel(plumbing.grpc_target) as channel:
        stub = pb_grpc.RealtimeTranslateStub(channel)
        requests = [
            pb.ClientMessage(hello=pb.Hello(source_lang="es", target_lang="en", features_set=True, tts=True,
                                            vad=True, partial_results=True, tts_format="opus")),
            pb.ClientMessage(text=pb.Text(text="gracias", final=True)),
        ]

        async def stream():
            for r in requests:
                yield r
            await asyncio.sleep(0.5)

        replies = [m async for m in stub.Stream(stream(), timeout=30)]
    tts = [r.tts for r in replies if r.WhichOneof("kind") == "tts"]
    assert tts and all(t.encoding == "opus" and not t.pcm16 for t in tts)
    assert ogg_opus_seconds(tts[0].opus) > 0.05


# -- real models -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server():
    srv = start_model_server(NEEDED)
    yield srv
    srv.stop(60)


def heard(text: str) -> set[str]:
    """Key words of the clip's reference ("...no todos pudieron acceder al funeral en la plaza de san pedro")."""
    words = {w.strip(".,;:!?¿¡").lower() for w in text.split()}
    return words & {"cantidad", "gente", "todos", "pudieron", "acceder", "funeral", "plaza", "san", "pedro"}


def looks_english(text: str) -> bool:
    from rtt.text.langid import identify_language

    return identify_language(text)[0] == "en" and bool({"funeral", "people", "square", "peter"} &
                                                       {w.strip(".,").lower() for w in text.split()})


@pytest.mark.models
@pytest.mark.parametrize("encoding", ["webm-opus", "ogg-opus"])
async def test_a_recorder_stream_in_random_chunks_is_transcribed_and_translated(server, encoding):
    ogg = CLIP.read_bytes()
    data = ogg if encoding == "ogg-opus" else remux(ogg, "webm", live="1")
    rng = random.Random(1)
    async with RttClient(server.base_url, timeout_s=300) as client, \
            client.realtime(source_lang="es", target_lang="en", audio={"encoding": encoding},
                            features={"refinement": False}) as rt:
        for part in chunks(data, seed=2, largest=1500):
            await rt.send_audio(part, binary=True)
            await asyncio.sleep(rng.uniform(0.0, 0.08))  # about real time: MediaRecorder's pace
        await rt.control("commit")
        await rt.end(timeout_s=300)
    assert not [m for m in rt.received if m.type == "error"], rt.received
    finals = [m for m in rt.received if m.type == "final_translation"]
    transcript = " ".join(m.source_text for m in finals)
    assert len(heard(transcript)) >= 5, transcript
    assert looks_english(" ".join(m.text for m in finals)), finals


@pytest.mark.models
async def test_an_ogg_opus_stream_over_grpc_is_transcribed(server):
    data = CLIP.read_bytes()

    async def requests():
        yield pb.ClientMessage(hello=pb.Hello(source_lang="es", target_lang="en", encoding="ogg-opus",
                                              refinement=2))
        for part in chunks(data, seed=9, largest=2000):
            yield pb.ClientMessage(audio=pb.Audio(data=part))
            await asyncio.sleep(0.05)
        yield pb.ClientMessage(control=pb.Control(action="commit"))

    async with grpc.aio.insecure_channel(server.grpc_target) as channel:
        replies = [m async for m in pb_grpc.RealtimeTranslateStub(channel).Stream(requests(), timeout=300)]
    assert not [r.error for r in replies if r.WhichOneof("kind") == "error"]
    finals = [r.asr.text for r in replies if r.WhichOneof("kind") == "asr" and r.asr.is_final]
    assert len(heard(" ".join(finals))) >= 5, finals


@pytest.mark.models
async def test_piper_speech_comes_back_as_ogg_opus(server):
    async with RttClient(server.base_url, timeout_s=300) as client, \
            client.realtime(source_lang="es", target_lang="en", features={"tts": True, "refinement": False},
                            tts_format="opus") as rt:
        await rt.send_text("muchas gracias a todos", final=True)
        chunks_ = [await rt.wait_for("tts_audio", timeout_s=120)]
        while not chunks_[-1].is_last:
            chunks_.append(await rt.wait_for("tts_audio", timeout_s=120))
        await rt.end(timeout_s=120)
    files = [base64.b64decode(c.audio) for c in chunks_ if c.audio]
    seconds = sum(ogg_opus_seconds(f) for f in files)
    assert all(c.encoding == "opus" for c in chunks_) and 0.3 < seconds < 10, seconds
