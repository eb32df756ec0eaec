"""Session wiring with plumbing fakes (scripted ASR, upper-casing MT, energy VAD on tones)."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest

from rtt.errors import InvalidInput
from rtt.pipeline import events as ev
from rtt.pipeline.session import Session, SessionOptions
from tests.speech_fixtures import (
    FakeTranslator,
    ScriptedAsr,
    collect,
    pcm,
    plumbing_components,
    silence,
    stream_audio,
    tone,
)


def speech(seconds: float) -> np.ndarray:
    return np.concatenate([silence(0.5), tone(seconds), silence(1.0)])


async def run_session(samples: np.ndarray, components=None, **opts) -> tuple[Session, list[ev.Event]]:  # type: ignore[no-untyped-def]
    components = components or plumbing_components(min_silence_ms=300)
    opts_realtime = opts.pop("realtime", 0.0)
    session = Session(components, SessionOptions(source_lang=opts.pop("source_lang", "es"),
                                                 target_lang=opts.pop("target_lang", "en"), **opts))
    await session.start()
    consumer = asyncio.create_task(collect(session))
    await stream_audio(session, samples, realtime=opts_realtime)
    await session.close()
    return session, await consumer


def of(events: list[ev.Event], kind: type) -> list:  # type: ignore[type-arg]
    return [e for e in events if isinstance(e, kind)]


async def test_word_timestamps_are_off_by_default() -> None:
    # One default for every caller: no alignment pass beside the final MT step.
    session, events = await run_session(speech(2.0), realtime=0.5)
    final_asr = of(events, ev.FinalAsr)[0]
    assert final_asr.text.split()[:3] == ["uno", "dos", "tres"] and final_asr.words == ()
    assert of(events, ev.FinalTranslation)[0].source_text == final_asr.text


async def test_cascade_emits_every_stage_in_order() -> None:
    session, events = await run_session(speech(2.0), realtime=0.5, word_timestamps=True)
    kinds = [type(e).__name__ for e in events]
    assert kinds[0] == "SpeechStarted"
    assert kinds.index("SpeechStopped") < kinds.index("FinalAsr") < kinds.index("FinalTranslation")
    final_asr = of(events, ev.FinalAsr)[0]
    # 2 s of tone plus padding: the script's first 8 words
    assert final_asr.text.split()[:8] == ["uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho"]
    assert final_asr.words and final_asr.words[0].text == "uno"
    assert 350 < final_asr.start_ms < 500  # tone starts at 500 ms, minus ~100 ms of pre-roll
    final = of(events, ev.FinalTranslation)[0]
    assert final.text == final_asr.text.upper()
    assert final.source_text == final_asr.text
    for key in ("asr", "mt", "endpoint_to_final", "vad"):
        assert key in final.latency_ms
    assert final.latency_ms["endpoint_to_final"] >= 0
    # partial ASR: committed text only ever grows
    committed = [p.committed for p in of(events, ev.PartialAsr)]
    assert committed and all(b.startswith(a) for a, b in zip(committed, committed[1:], strict=False))
    assert of(events, ev.PartialTranslation)
    assert session.stats["asr"]["partial_decodes"] >= 3


async def test_two_utterances_get_increasing_ids() -> None:
    samples = np.concatenate([speech(1.0), speech(1.0)])
    _, events = await run_session(samples)
    finals = of(events, ev.FinalTranslation)
    assert [f.utterance_id for f in finals] == [0, 1]


async def test_silence_only_produces_no_finals() -> None:
    _, events = await run_session(silence(2.0))
    assert not of(events, ev.FinalAsr) and not of(events, ev.SpeechStarted)


async def test_text_input_goes_straight_to_mt() -> None:
    components = plumbing_components()
    session = Session(components, SessionOptions(source_lang="es", target_lang="en"))
    await session.start()
    consumer = asyncio.create_task(collect(session))
    await session.push_text("hola a todos", final=False)
    await session.push_text("y buenas tardes", final=True)
    await session.push_text("otra frase", final=False)
    await session.commit()
    await session.close()
    events = await consumer
    finals = of(events, ev.FinalTranslation)
    assert [f.text for f in finals] == ["HOLA A TODOS Y BUENAS TARDES", "OTRA FRASE"]
    assert finals[0].utterance_id != finals[1].utterance_id
    assert "input_to_final" in finals[0].latency_ms
    assert not of(events, ev.FinalAsr)


async def test_direct_mode_translates_in_whisper() -> None:
    _, events = await run_session(speech(1.5), mode="direct")
    finals = of(events, ev.FinalTranslation)
    assert len(finals) == 1 and finals[0].text == finals[0].text.upper() and finals[0].target_lang == "en"
    assert finals[0].audio_start_ms is not None and 350 < finals[0].audio_start_ms < 500
    assert not of(events, ev.PartialAsr)


async def test_auto_source_language_is_detected() -> None:
    components = plumbing_components(asr=ScriptedAsr(language="fr"), min_silence_ms=300)
    _, events = await run_session(speech(1.5), components=components, source_lang="auto")
    assert of(events, ev.FinalAsr)[0].language == "fr"
    assert of(events, ev.FinalTranslation)[0].source_lang == "fr"


async def test_mt_failure_becomes_an_error_event_and_asr_continues() -> None:
    components = plumbing_components(translator=FakeTranslator(fail=True), min_silence_ms=300)
    _, events = await run_session(speech(1.5), components=components)
    assert of(events, ev.FinalAsr)
    assert any(e.code == "BACKEND_UNAVAILABLE" for e in of(events, ev.ErrorEvent))
    assert not of(events, ev.FinalTranslation)


async def test_asr_failure_is_reported_and_session_stays_usable() -> None:
    components = plumbing_components(asr=ScriptedAsr(fail=True), min_silence_ms=300)
    session = Session(components, SessionOptions(source_lang="es", target_lang="en"))
    await session.start()
    consumer = asyncio.create_task(collect(session))
    await stream_audio(session, speech(1.0))
    await session.push_text("sigue funcionando", final=True)
    await session.close()
    events = await consumer
    assert of(events, ev.ErrorEvent)
    assert [f.text for f in of(events, ev.FinalTranslation)] == ["SIGUE FUNCIONANDO"]


class BrokenTts:
    def prewarm(self, langs) -> None:  # type: ignore[no-untyped-def]
        raise RuntimeError("no audio device in the fake")

    def stream(self, text, lang, voice=None):  # type: ignore[no-untyped-def]
        raise RuntimeError("synthesis failed")


async def test_tts_failure_gives_one_notice_and_captions_continue() -> None:
    components = plumbing_components(tts=BrokenTts(), min_silence_ms=300)
    _, events = await run_session(np.concatenate([speech(1.0), speech(1.0)]), components=components, tts=True)
    notices = of(events, ev.Notice)
    assert len(notices) == 1 and notices[0].code == "TTS_UNAVAILABLE"
    assert len(of(events, ev.FinalTranslation)) == 2


async def test_tts_streams_chunks_of_the_final_translation() -> None:
    from rtt.config import TtsConfig
    from rtt.tts.router import TtsRouter

    router = TtsRouter(TtsConfig(voices={}))  # eSpeak NG only: no model needed
    components = plumbing_components(tts=router, min_silence_ms=300)
    _, events = await run_session(speech(1.0), components=components, tts=True)
    chunks = of(events, ev.TtsAudio)
    assert len(chunks) > 3
    assert [c.chunk_index for c in chunks] == list(range(len(chunks)))
    assert chunks[-1].is_last and not any(c.is_last for c in chunks[:-1])
    assert all(len(c.pcm16) == 2 * c.sample_rate * 80 // 1000 for c in chunks[:-1])
    assert chunks[0].at_ms >= of(events, ev.FinalTranslation)[0].at_ms


async def test_commit_forces_the_endpoint() -> None:
    components = plumbing_components(min_silence_ms=2000)
    session = Session(components, SessionOptions(source_lang="es", target_lang="en"))
    await session.start()
    consumer = asyncio.create_task(collect(session))
    await stream_audio(session, np.concatenate([silence(0.3), tone(1.5)]))
    await session.commit()
    await asyncio.sleep(0.5)
    await stream_audio(session, tone(1.0))
    await session.close()
    events = await consumer
    assert len(of(events, ev.FinalAsr)) == 2


async def test_no_vad_means_push_to_talk() -> None:
    components = plumbing_components()
    session = Session(components, SessionOptions(source_lang="es", target_lang="en", vad=False))
    await session.start()
    consumer = asyncio.create_task(collect(session))
    await stream_audio(session, silence(1.0))  # silence too: the client decides the turns
    await session.commit()
    await session.close()
    events = await consumer
    assert len(of(events, ev.SpeechStarted)) == 1 and len(of(events, ev.FinalAsr)) == 1


async def test_resampled_input_and_sequence_numbers() -> None:
    components = plumbing_components(min_silence_ms=300)
    session = Session(components, SessionOptions(source_lang="es", target_lang="en", sample_rate=48000))
    await session.start()
    consumer = asyncio.create_task(collect(session))
    x48 = np.repeat(speech(1.0), 3)  # crude 48 kHz version
    chunks = [pcm(x48[i : i + 4800]) for i in range(0, len(x48), 4800)]
    order = list(range(len(chunks)))
    order[3], order[4] = order[4], order[3]  # out of order
    for seq in order + [5]:  # and one duplicate
        await session.push_audio(chunks[seq], seq=seq)
    await session.close()
    events = await consumer
    assert session.stats["jitter"]["duplicates"] + session.stats["jitter"]["late"] == 1
    assert of(events, ev.FinalAsr)


async def test_pause_drops_audio_until_resume() -> None:
    components = plumbing_components(min_silence_ms=300)
    session = Session(components, SessionOptions(source_lang="es", target_lang="en"))
    await session.start()
    consumer = asyncio.create_task(collect(session))
    await session.pause()
    await stream_audio(session, speech(1.0))
    await session.resume()
    await stream_audio(session, speech(1.0))
    await session.close()
    assert len(of(await consumer, ev.FinalAsr)) == 1


async def test_set_target_lang_applies_to_the_next_utterance() -> None:
    translator = FakeTranslator()
    components = plumbing_components(translator=translator, min_silence_ms=300)
    session = Session(components, SessionOptions(source_lang="es", target_lang="en"))
    await session.start()
    consumer = asyncio.create_task(collect(session))
    await stream_audio(session, speech(1.0))
    await asyncio.sleep(0.3)
    await session.set_target_lang("de")
    await stream_audio(session, speech(1.0))
    await session.close()
    finals = of(await consumer, ev.FinalTranslation)
    assert [f.target_lang for f in finals] == ["en", "de"]


async def test_option_and_state_errors() -> None:
    components = plumbing_components()
    with pytest.raises(InvalidInput):
        Session(components, SessionOptions(source_lang="es", target_lang="es"))
    with pytest.raises(InvalidInput):
        Session(components, SessionOptions(source_lang="es", target_lang="de", mode="direct"))
    with pytest.raises(InvalidInput):
        Session(components, SessionOptions(sample_rate=44100))
    with pytest.raises(Exception):  # noqa: B017 - UnsupportedLanguage
        Session(components, SessionOptions(source_lang="xx"))
    session = Session(components, SessionOptions(source_lang="es", target_lang="en"))
    with pytest.raises(InvalidInput):
        await session.push_audio(b"\x00\x00")
    await session.start()
    with pytest.raises(InvalidInput):
        await session.push_audio(b"\x00\x00\x00")  # odd length
    await session.close()
    with pytest.raises(InvalidInput) as err:
        await session.push_audio(b"\x00\x00")
    assert err.value.code == "SESSION_CLOSED"


async def test_slow_consumer_loses_partials_never_finals() -> None:
    from rtt.pipeline.channel import EventChannel

    ch = EventChannel(max_pending=4)
    for i in range(10):
        ch.put(ev.PartialAsr(0, "", str(i), float(i)))
    ch.put(ev.FinalAsr(0, "x", "es", 0, 1, 10))
    for i in range(5):
        ch.put(ev.FinalTranslation(i, "t", "s", "es", "en", 11.0))
    ch.close()
    got = [e async for e in ch]
    assert len(of(got, ev.FinalTranslation)) == 5 and len(of(got, ev.FinalAsr)) == 1
    partials = of(got, ev.PartialAsr)
    assert partials and partials[-1].tentative == "9"  # the newest partial survives
    assert ch.dropped == 10 - len(partials)


async def test_speculative_finish_is_used_when_the_pause_is_the_endpoint() -> None:
    translator = FakeTranslator()
    components = plumbing_components(translator=translator, min_silence_ms=500)
    session, events = await run_session(speech(2.0), components=components, realtime=1.0)
    final = of(events, ev.FinalTranslation)[0]
    assert final.text == of(events, ev.FinalAsr)[0].text.upper()
    assert session.stats["mt"]["speculations"] >= 1
    assert session.stats["mt"]["speculations_used"] == 1
    assert final.latency_ms["mt_speculative"] == 1.0
    # the real translator was never finished twice: the clone did the final step
    assert not any(done for _, done in translator.made[0].pushed)


async def test_wrong_speculation_is_discarded() -> None:
    # speech, a 300 ms pause (speculation), more speech: the guess must not become the final
    components = plumbing_components(min_silence_ms=500)
    samples = np.concatenate([silence(0.3), tone(1.0), silence(0.3), tone(1.0), silence(1.0)])
    session, events = await run_session(samples, components=components, realtime=1.0)
    finals = of(events, ev.FinalTranslation)
    assert len(finals) == 1
    assert finals[0].text == of(events, ev.FinalAsr)[0].text.upper()
    assert len(finals[0].text.split()) >= 8
    assert session.stats["mt"]["speculations"] >= 1


async def test_audio_overload_drops_oldest_audio_with_one_notice() -> None:
    components = plumbing_components()
    session = Session(components, SessionOptions(source_lang="es", target_lang="en"))
    await session.start()
    assert session.audio is not None
    session.audio.queue._maxsize = 5  # type: ignore[attr-defined]  # a tiny bound for the test
    for _ in range(20):  # push_audio never awaits: the audio stage cannot run in between
        await session.push_audio(pcm(silence(0.02)))
    assert session.audio.queue.qsize() == 5
    assert session.stats["dropped_audio_chunks"] == 15
    consumer = asyncio.create_task(collect(session))
    await session.close()
    notices = of(await consumer, ev.Notice)
    assert [n.code for n in notices] == ["AUDIO_OVERLOAD"]


async def test_missing_asr_model_is_an_error_event_and_text_still_works() -> None:
    from rtt.errors import ModelMissing
    from rtt.pipeline.components import Components

    class NoAsr(Components):
        def _load_asr(self):  # type: ignore[no-untyped-def]
            raise ModelMissing("model 'whisper-base-ct2' is not in the store")

    base = plumbing_components()
    components = NoAsr(base.config, translator=FakeTranslator())
    session = Session(components, SessionOptions(source_lang="es", target_lang="en"))
    await session.start()
    consumer = asyncio.create_task(collect(session))
    await stream_audio(session, speech(1.0))
    await session.push_text("hola", final=True)
    await session.close()
    events = await consumer
    assert [e.code for e in of(events, ev.ErrorEvent)] == ["MODEL_MISSING"]
    assert [f.text for f in of(events, ev.FinalTranslation)] == ["HOLA"]


def _mt_stage() -> tuple[Any, FakeTranslator, list[ev.Event], list[ev.FinalTranslation], asyncio.Task[None]]:
    """A running MtStage over the plumbing translator, with what it emitted and finished."""
    from rtt.pipeline.mt_stage import MtStage

    translator = FakeTranslator()
    out: list[ev.Event] = []
    finals: list[ev.FinalTranslation] = []
    stage = MtStage(lambda s, t: translator.simultaneous(s, t), target_lang=lambda: "en", partial_results=True,
                    now_ms=lambda: 0.0, emit=out.append, on_final=finals.append, tag="t")
    return stage, translator, out, finals, asyncio.create_task(stage.run())


async def test_mt_holds_non_final_steps_while_the_prefinal_decode_runs() -> None:
    from rtt.pipeline.asr_stage import SourceWords

    stage, translator, out, finals, task = _mt_stage()
    stage.hold(True)
    stage.queue.put_nowait(SourceWords(0, "uno dos tres cuatro", False, "es"))
    for _ in range(20):
        await asyncio.sleep(0)
    assert stage.stats["steps"] == 0 and not out  # held: nothing translated yet
    stage.queue.put_nowait(SourceWords(0, "cinco", True, "es"))
    stage.hold(False)
    stage.queue.put_nowait(None)
    await asyncio.wait_for(task, 5)
    # the held words and the final went into one step
    assert stage.stats["steps"] == 1 and stage.stats["merged_items"] == 1
    assert finals[0].text == "UNO DOS TRES CUATRO CINCO"
    assert translator.made[0].pushed == [("uno dos tres cuatro cinco", True)]


async def test_a_replaced_asr_final_is_translated_afresh() -> None:
    from rtt.pipeline.asr_stage import SourceWords

    stage, translator, out, finals, task = _mt_stage()
    stage.queue.put_nowait(SourceWords(0, "for the", False, "es"))  # a wrong early commit
    for _ in range(200):
        if stage.stats["steps"]:
            break
        await asyncio.sleep(0.01)
    shown = of(out, ev.PartialTranslation)[-1]
    assert f"{shown.committed} {shown.tentative}".split() == ["FOR", "THE"]
    # the ASR final dropped it: the whole utterance comes again and replaces it
    stage.queue.put_nowait(SourceWords(0, "para los mejores", True, "es", restart=True))
    stage.queue.put_nowait(None)
    await asyncio.wait_for(task, 5)
    assert [(f.text, f.source_text) for f in finals] == [("PARA LOS MEJORES", "para los mejores")]
    assert stage.stats["restarts"] == 1


async def test_final_and_speculation_are_never_held() -> None:
    from rtt.pipeline.asr_stage import SourceWords
    from rtt.pipeline.mt_stage import MtStage

    finals: list[ev.FinalTranslation] = []
    stage = MtStage(lambda s, t: FakeTranslator().simultaneous(s, t), target_lang=lambda: "en",
                    partial_results=True, now_ms=lambda: 0.0, emit=lambda e: None, on_final=finals.append, tag="t")
    task = asyncio.create_task(stage.run())
    stage.hold(True)
    stage.queue.put_nowait(SourceWords(0, "hola", True, "es"))
    stage.queue.put_nowait(None)
    await asyncio.wait_for(task, 5)
    assert [f.text for f in finals] == ["HOLA"]


async def _drive_pause(wait_in_pauses: bool) -> tuple[list[int], list[bool]]:
    """1 s of speech, then a 120 ms pause while a partial falls due; returns the decoded lengths
    seen during the pause and the MT holds requested."""
    from rtt.asr.streaming import StreamingAsrConfig
    from rtt.pipeline.asr_stage import AsrStage
    from rtt.pipeline.utterance import Utterance

    asr = ScriptedAsr()
    holds: list[bool] = []
    stage = AsrStage(lambda: asr, StreamingAsrConfig(word_timestamps=False), source_lang="es", mode="cascade",
                     target_lang=lambda: "en", partial_interval_ms=500, partial_results=True, asr_context=False,
                     now_ms=lambda: 0.0, emit=lambda e: None, to_mt=lambda w: None,
                     on_final_translation=lambda f: None, tag="t", hold_mt=holds.append,
                     wait_in_pauses=wait_in_pauses)
    queue: asyncio.Queue = asyncio.Queue()  # type: ignore[type-arg]
    task = asyncio.create_task(stage.run(queue))
    utt = Utterance(0, 0, 0.0, 0.0)
    queue.put_nowait(utt)

    async def settle() -> None:
        for _ in range(50):
            await asyncio.sleep(0.001)

    utt.append(tone(1.0))
    await settle()
    before = len(asr.calls)
    utt.trailing_silence_ms = 120.0  # silence after the VAD's pad but before the pre-final mark
    utt.append(silence(0.6))  # a partial is due by audio time
    await settle()
    during = [n for n, _ in asr.calls[before:]]
    utt.end("silence", 16000 + 1600, 0.0)
    utt.changed.set()
    queue.put_nowait(None)
    await asyncio.wait_for(task, 5)
    return during, holds


async def test_a_partial_due_early_in_a_pause_waits_for_the_prefinal_mark() -> None:
    during, holds = await _drive_pause(wait_in_pauses=True)
    assert during == []  # nothing started in the first 120 ms of the pause
    # the final decode (the pause was the endpoint) held MT steps, then released them
    assert holds.count(True) == 1 and holds[-1] is False  # no pre-final ran: the one hold is the final's
    during, _ = await _drive_pause(wait_in_pauses=False)
    assert during == [16000 + 9600]  # the old behaviour: decoded at once, before the speech end


def test_words_merged_into_a_final_keep_the_finals_fields() -> None:
    from rtt.pipeline.asr_stage import SourceWords
    from rtt.pipeline.mt_stage import MtStage

    stage = MtStage(lambda s, t: FakeTranslator().simultaneous(s, t), target_lang=lambda: "en",
                    partial_results=True, now_ms=lambda: 0.0, emit=lambda e: None, on_final=lambda f: None, tag="t")
    redecode = object()  # what the refinement pass decodes again: it must reach the final's step
    stage.queue.put_nowait(SourceWords(0, "para los", True, "es", {"asr": 5.0}, None, {"endpoint": 1.0},
                                       redecode=redecode))  # type: ignore[arg-type]
    merged = stage._merge(SourceWords(0, "hola", False, "es"))
    assert (merged.text, merged.final, merged.redecode, merged.marks) == ("hola para los", True, redecode,
                                                                         {"endpoint": 1.0})
