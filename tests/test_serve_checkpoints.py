"""Sessions that outlive their server (serve/checkpoints.py): two servers sharing a real Redis
(as two replicas would), a plumbing backend (fixed translation) around the real session manager,
WebSocket transport and checkpoint store.  The client's first server stops answering mid-sentence;
the client resumes on the second one and every sentence gets exactly one final."""

from __future__ import annotations

import time

from rtt.client import RttClient
from serve.checkpoints import NoCheckpoints, SessionCheckpoint
from tests.serve_fixtures import running_server, serve_settings
from tests.test_serve_limits import redis_url  # noqa: F401 - the module's real redis-server

SENTENCES = ["the cat sleeps", "the dog runs", "the bird sings", "the fish swims"]


async def _finals_until(rt, n: int, timeout_s: float = 20.0) -> list:
    deadline = time.monotonic() + timeout_s
    while sum(m.type == "final_translation" for m in rt.received) < n:
        await rt.recv(max(0.01, deadline - time.monotonic()))
    return [m for m in rt.received if m.type == "final_translation"]


async def test_a_session_resumes_on_another_server_from_its_checkpoint(redis_url) -> None:  # noqa: F811
    settings = serve_settings(redis_url=redis_url, redis_prefix=f"cp{time.time_ns()}:")
    with running_server(settings=settings) as one, running_server(settings=settings) as two:
        sent: dict[int, tuple[str, bool]] = {}  # seq -> (text, final): what the client would re-send
        async with RttClient(one.base_url) as c1:
            rt = await c1.realtime(source_lang="es", target_lang="en").connect()
            for sentence in SENTENCES[:2]:
                seq = await rt.send_text(sentence, final=True)
                sent[seq] = (sentence, True)
            first = await _finals_until(rt, 2)
            # Half of the third sentence is accepted, then the first server is gone for the client
            # (its process would be dead; here its connection is dropped and never used again).
            for word in SENTENCES[2].split()[:2]:
                seq = await rt.send_text(word)
                sent[seq] = (word, False)
            await rt.close()
            session_id, last_event_id = rt.session_id, first[0].event_id  # the 2nd final "got lost"
        async with RttClient(two.base_url) as c2:
            again = await c2.resume(session_id, last_event_id=last_event_id).connect()
            assert again.created.resumed and again.created.replayed == 1
            watermark = again.created.last_seq
            assert watermark == max(s for s, (_, final) in sent.items() if final)  # the 2nd sentence's
            for seq in sorted(s for s in sent if s > watermark):  # the client re-sends after last_seq
                await again.send_text(sent[seq][0], final=sent[seq][1], seq=seq)
            await again.send_text(SENTENCES[2].split()[2], final=True)
            await again.send_text(SENTENCES[3], final=True)
            await again.end(timeout_s=20)
    finals = first[:1] + [m for m in again.received if m.type == "final_translation"]
    assert [f.source_text for f in finals] == SENTENCES  # each sentence exactly once, in order
    assert [f.utterance_id for f in finals] == [0, 1, 2, 3]  # ids continue across the servers
    ids = [f.event_id for f in finals]
    assert ids == sorted(ids) and len(set(ids)) == 4


async def test_without_redis_a_session_is_local_and_unknown_elsewhere() -> None:
    with running_server() as one, running_server() as two:
        assert isinstance(one.state.manager.checkpoints, NoCheckpoints)
        async with RttClient(one.base_url) as c1:
            rt = await c1.realtime(source_lang="es", target_lang="en").connect()
            await rt.close()
        async with RttClient(two.base_url) as c2:
            try:
                await c2.resume(rt.session_id).connect()
            except Exception as exc:
                assert "NOT_FOUND" in str(exc)
            else:
                raise AssertionError("a session without a checkpoint resumed elsewhere")


def test_a_checkpoint_round_trips_its_finals() -> None:
    from rtt.protocol import FinalTranslation, SessionConfig

    final = FinalTranslation(utterance_id=3, text="hello", source_text="hola", source_lang="es", target_lang="en",
                             at_ms=1.0, event_id=7)
    cp = SessionCheckpoint(session_id="s_x", principal_id="p", transport="websocket", protocol_version=1,
                           config=SessionConfig(target_lang="en"), last_seq=4, next_event_id=8,
                           finals=[final.model_dump(mode="json")])
    back = SessionCheckpoint.model_validate_json(cp.model_dump_json())
    (msg,) = back.messages()
    assert isinstance(msg, FinalTranslation) and msg.event_id == 7 and msg.text == "hello"


async def test_a_speech_session_resumes_after_the_audio_of_its_last_final(redis_url) -> None:  # noqa: F811
    """Speech: the watermark is the last audio frame up to the final's end (plus half the endpoint
    silence), so re-sending the frames after it gives the open utterance once, whole."""
    from tests.serve_fixtures import pcm_silence, pcm_tone

    settings = serve_settings(redis_url=redis_url, redis_prefix=f"cps{time.time_ns()}:")
    chunk = 3200  # 100 ms of 16 kHz PCM16

    def chunks(pcm: bytes) -> list[bytes]:
        return [pcm[i:i + chunk] for i in range(0, len(pcm), chunk)]

    utterance = chunks(pcm_tone(1.0) + pcm_silence(0.6))
    sent: dict[int, bytes] = {}
    with running_server(settings=settings) as one, running_server(settings=settings) as two:
        async with RttClient(one.base_url) as c1:
            rt = await c1.realtime(source_lang="es", target_lang="en").connect()
            for piece in utterance * 2:
                seq = await rt.send_audio(piece)
                sent[seq] = piece
            first = await _finals_until(rt, 2)
            for piece in chunks(pcm_tone(0.5)):  # the third utterance is half spoken
                seq = await rt.send_audio(piece)
                sent[seq] = piece
            await rt.close()
        async with RttClient(two.base_url) as c2:
            again = await c2.resume(rt.session_id, last_event_id=first[-1].event_id).connect()
            watermark = again.created.last_seq
            # past the second utterance's speech (its 10 tone chunks), before the third's
            assert len(utterance) + 9 <= watermark < 2 * len(utterance)
            for seq in sorted(s for s in sent if s > watermark):
                await again.send_audio(sent[seq], seq=seq)
            for piece in chunks(pcm_tone(0.5) + pcm_silence(0.6)):
                await again.send_audio(piece)
            await again.end(timeout_s=20)
    finals = first + [m for m in again.received if m.type == "final_translation"]
    assert [f.utterance_id for f in finals] == [0, 1, 2]
    assert len({f.source_text for f in finals}) == 1  # the third is as long as the others: heard once, whole
