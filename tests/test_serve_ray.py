"""The service on Ray Serve (serve/scaleout/): a local Ray cluster on 127.0.0.1 with two ingress
replicas running the real app and models, the fast MT tier as a pool of one replica, the
accurate (refinement) tier and Whisper as pools of their own, driven over real sockets through Ray's proxy:
REST, a text session, a FLEURS speech session, a replica killed under a live session (which
resumes on another from its Redis checkpoint), and a rolling config update during a session."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time

import httpx
import pytest

from rtt.client import RttClient
from rtt.config import load_config
from tests.serve_fixtures import SHARED_DATA
from tests.test_serve_limits import redis_url  # noqa: F401 - a real redis-server for the checkpoints

pytestmark = pytest.mark.models
pytest.importorskip("ray.serve")

NEEDED = ("whisper-base-ct2", "silero-vad", "gemma3-270m-q4km-latin", "qwen2.5-1.5b-instruct-q4km")
FLEURS = SHARED_DATA / "fleurs"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _two_free_ports() -> int:
    """A port whose successor is free too: the base of the two replicas' gRPC ports."""
    for _ in range(50):
        base = _free_port()
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", base + 1))
            return base
        except OSError:
            continue
    raise RuntimeError("no two adjacent free ports")


GRPC_BASE = _two_free_ports()


def _settings(port: int, redis: str, name: str = "default"):
    from serve.settings import load_serve_settings

    config = load_config().model_copy(update={"name": name})
    # Two cores here: the deployments ask for fractions of a CPU so that all of them fit.
    pool = {"min_replicas": 1, "max_replicas": 1, "num_cpus": 0.25}
    settings = load_serve_settings(config, port=port, grpc_port=GRPC_BASE, redis_url=redis, redis_prefix="rtt-ray-test:", ray={
        "ingress_replicas": 2, "ingress_num_cpus": 0.25, "graceful_shutdown_timeout_s": 120,
        "mt_pools": {"fast": pool, "accurate": pool}, "asr_pool": pool})
    return config, settings


@pytest.fixture(scope="module")
def cluster(redis_url):  # noqa: F811
    from rtt.models.store import ModelStore

    if not all(ModelStore().is_ready(n) for n in NEEDED):
        pytest.skip("packaged models not assembled; run `rtt models pull`")
    import ray
    from ray import serve

    from serve.scaleout.app import start

    port = _free_port()
    config, settings = _settings(port, redis_url)
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a throwaway cluster on loopback
    start(config, settings)
    yield f"http://127.0.0.1:{port}", port, redis_url
    serve.shutdown()
    ray.shutdown()


def test_rest_translate_through_the_proxy_uses_the_fast_pool(cluster) -> None:
    base = cluster[0]
    r = httpx.post(f"{base}/v1/translate", json={"text": "El gato duerme en la casa.", "source_lang": "es",
                                                   "target_lang": "en"}, timeout=120)
    assert r.status_code == 200, r.text
    assert "cat" in r.json()["translation"].lower()
    from ray import serve

    from serve.scaleout.pools import ASR_POOL, pool_name

    status = serve.status().applications["rtt"].deployments
    assert {"rtt-ingress", pool_name("fast"), pool_name("accurate"), ASR_POOL} <= set(status)
    assert all(d.status == "HEALTHY" for d in status.values())
    # /metrics on an ingress replica: its own models count, the pools' remote engines do not
    # (a blocking handle call from the scrape would fail on the replica's event loop)
    m = httpx.get(f"{base}/metrics", timeout=30)
    assert m.status_code == 200 and "rtt_model_busy_seconds" in m.text
    assert 'engine="asr"' not in m.text and 'engine="mt:apertium"' not in m.text


async def test_text_session_gets_final_and_revision_from_the_pools(cluster) -> None:
    base = cluster[0]
    async with RttClient(base, timeout_s=180) as client, \
            client.realtime(source_lang="de", target_lang="en") as rt:
        await rt.send_text("Der Hund läuft schnell über die Straße.", final=True)
        await rt.end(timeout_s=180)
    served = rt.created.served_by
    assert served.config == "default" and served.replica and served.models  # which replica, which files
    finals = [m for m in rt.received if m.type == "final_translation"]
    revised = [m for m in rt.received if m.type == "revised_translation"]
    assert len(finals) == 1 and "dog" in finals[0].text.lower()
    assert len(revised) == 1 and revised[0].status in ("revised", "unchanged")  # the accurate pool answered


async def test_grpc_is_served_by_each_ingress_replica(cluster) -> None:
    """Each replica listens on the base port plus its rank; a stream there is a whole session."""
    import grpc

    from serve.grpc_gen import realtime_pb2 as pb
    from serve.grpc_gen import realtime_pb2_grpc as pb_grpc

    async def requests():
        yield pb.ClientMessage(hello=pb.Hello(source_lang="es", target_lang="en"))
        yield pb.ClientMessage(text=pb.Text(text="El gato duerme en la casa.", final=True))

    for port in (GRPC_BASE, GRPC_BASE + 1):
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            replies = [m async for m in pb_grpc.RealtimeTranslateStub(channel).Stream(requests(), timeout=300)]
        finals = [r.translation for r in replies if r.WhichOneof("kind") == "translation" and r.translation.is_final
                  and not r.translation.revision_status]
        assert finals and "cat" in finals[0].text.lower(), (port, replies[-3:])


async def test_speech_session_through_the_proxy(cluster) -> None:
    if not FLEURS.is_dir():
        pytest.skip("shared data not found")
    import numpy as np
    from faster_whisper.audio import decode_audio

    base = cluster[0]
    samples = decode_audio(str(FLEURS / "fleurs-es-002.ogg"), sampling_rate=16000)
    pcm = (np.clip(samples, -1, 32767 / 32768) * 32768).astype("<i2").tobytes() + b"\x00\x00" * 16000
    async with RttClient(base, timeout_s=180) as client, \
            client.realtime(source_lang="es", target_lang="en") as rt:
        for i in range(0, len(pcm), 6400):
            await rt.send_audio(pcm[i:i + 6400], binary=True)
            await asyncio.sleep(0.1)
        await rt.end(timeout_s=180)
    types = [m.type for m in rt.received]
    assert "partial_asr" in types and "final_asr" in types
    finals = [m for m in rt.received if m.type == "final_translation"]
    assert finals and any(w in finals[-1].text.lower() for w in ("people", "funeral", "square")), finals


async def test_a_session_survives_the_replica_that_held_it(cluster) -> None:
    """The ingress replica holding a live session is killed (its actor) mid-sentence; the client
    reconnects through the proxy, resumes on another replica from the Redis checkpoint, re-sends
    what came after ``last_seq``, and every sentence gets exactly one final."""
    import ray

    base = cluster[0]
    sentences = ["El gato duerme en la casa.", "El perro corre en el parque.", "Los niños juegan en la calle.",
                 "Mañana lloverá en la ciudad."]
    sent: dict[int, tuple[str, bool]] = {}
    async with RttClient(base, timeout_s=180) as client:
        rt = await client.realtime(source_lang="es", target_lang="en", partial_results=False).connect()
        for sentence in sentences[:2]:
            seq = await rt.send_text(sentence, final=True)
            sent[seq] = (sentence, True)
        while sum(m.type == "final_translation" for m in rt.received) < 2:
            await rt.recv(120)
        words = sentences[2].split()
        for word in words[:3]:  # mid-sentence
            seq = await rt.send_text(word)
            sent[seq] = (word, False)
        await asyncio.sleep(0.5)
        replica = rt.created.served_by.replica
        ray.kill(ray.get_actor(replica, namespace="serve"), no_restart=True)
        from websockets.exceptions import ConnectionClosed

        with pytest.raises((ConnectionClosed, TimeoutError)):  # the connection dies with the replica
            while True:
                await rt.recv(30)
        session_id, last_event_id = rt.session_id, rt.last_event_id
    deadline = time.monotonic() + 120
    while True:  # the proxy may still try the dead replica for a moment
        try:
            async with RttClient(base, timeout_s=180) as client:
                again = await client.resume(session_id, last_event_id=last_event_id).connect()
                assert again.created.resumed and again.created.served_by.replica != replica
                for seq in sorted(s for s in sent if s > (again.created.last_seq or -1)):
                    await again.send_text(sent[seq][0], final=sent[seq][1], seq=seq)
                await again.send_text(" ".join(words[3:]), final=True)
                await again.send_text(sentences[3], final=True)
                await again.end(timeout_s=180)
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(2)
    finals = {m.event_id: m for m in rt.received + again.received if m.type == "final_translation"}
    sources = [f.source_text for _, f in sorted(finals.items())]
    assert sources == sentences, sources  # each sentence exactly once, in order
    assert sorted(f.utterance_id for f in finals.values()) == [0, 1, 2, 3]


async def test_a_rolling_config_update_lets_the_running_session_finish(cluster) -> None:
    """A new config version (here: a new name) is deployed while a session runs: the old replica
    finishes the session (both sentences get their final, the session ends normally), new
    sessions are served by the new version."""
    from serve.scaleout.app import start

    base, port, redis = cluster
    config, settings = _settings(port, redis, name="default-v2")
    async with RttClient(base, timeout_s=300) as client, \
            client.realtime(source_lang="es", target_lang="en") as rt:
        await rt.send_text("Hoy hace mucho sol en la playa.", final=True)
        deploy = threading.Thread(target=start, args=(config, settings), daemon=True)
        deploy.start()
        await asyncio.sleep(5)  # the update is under way
        await rt.send_text("Mañana lloverá en la ciudad.", final=True)
        await rt.end(timeout_s=300)
        await asyncio.to_thread(deploy.join, 600)
    assert rt.created.served_by.config == "default"
    finals = [m for m in rt.received if m.type == "final_translation"]
    assert [f.utterance_id for f in finals] == [0, 1], finals
    assert [m for m in rt.received if m.type == "session.ended"][-1].reason == "client_end"
    deadline = time.monotonic() + 120
    while True:  # new sessions reach the new version once the old replicas are gone
        async with RttClient(base, timeout_s=120) as client, \
                client.realtime(source_lang="es", target_lang="en") as fresh:
            await fresh.end(timeout_s=60)
        if fresh.created.served_by.config == "default-v2" or time.monotonic() > deadline:
            break
        await asyncio.sleep(2)
    assert fresh.created.served_by.config == "default-v2"
