"""A real FLEURS clip through the whole Session: Silero -> Whisper base -> the served es->en tier
(Apertium) with wait-k.

Bounds were measured on this machine (reports/speech/README.md) and set with a margin; they
catch a broken pipeline (wrong resampling, lost audio, misrouted languages), not small drifts.
"""

from __future__ import annotations

import asyncio

import pytest

from rtt.pipeline import events as ev
from tests.speech_fixtures import fleurs_clip, real_translator, speech_config, stream_audio, whisper_engine  # noqa: F401

pytestmark = pytest.mark.models

# Measured on es-002 (one sentence, so chrF moves a lot with one reworded phrase):
# WER 0.00-0.10 ("tanta" is sometimes committed early as "tan de"); cascade chrF 29.8-40.4
# with Qwen 0.5B wait-3, 37.4 with Apertium wait-3 (the served es->en tier); direct
# (Whisper base translate) chrF 33.7.  A broken stage (lost audio,
# wrong rate, wrong language) scores far below these bounds.
MAX_WER = 0.30
MIN_CHRF_CASCADE = 20.0
MIN_CHRF_DIRECT = 25.0


def _reference(clip: str, lang: str) -> str:
    import json

    from rtt.datasets import flores_line
    from tests.speech_fixtures import speech_data_dir

    mapping = json.loads((speech_data_dir() / "fleurs" / "fleurs_flores_map.json").read_text())
    line = next(m["flores_devtest_line"] for m in mapping if m["clip"] == f"{clip}.ogg")
    return flores_line(lang, line, speech_data_dir()).strip()


async def _run(components, options) -> list[ev.Event]:  # type: ignore[no-untyped-def]
    from rtt.audio.files import load_audio_file
    from rtt.pipeline.session import Session

    session = Session(components, options)
    await session.start()
    events: list[ev.Event] = []

    async def consume() -> None:
        async for e in session.events():
            events.append(e)

    consumer = asyncio.create_task(consume())
    # twice real time: partials still happen, the test stays short
    await stream_audio(session, load_audio_file(fleurs_clip("fleurs-es-002")), realtime=0.5)
    await session.close()
    await consumer
    return events


async def test_fleurs_clip_cascade(speech_config, whisper_engine, real_translator) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from rtt.metrics.quality import corpus_chrf
    from rtt.metrics.wer import word_error_rate
    from rtt.pipeline.components import Components
    from rtt.pipeline.session import SessionOptions
    from tests.speech_fixtures import speech_data_dir

    components = Components(speech_config, asr=whisper_engine, translator=real_translator)
    events = await _run(components, SessionOptions(source_lang="es", target_lang="en", word_timestamps=True))
    asr = [e for e in events if isinstance(e, ev.FinalAsr)]
    mt = [e for e in events if isinstance(e, ev.FinalTranslation)]
    assert not [e for e in events if isinstance(e, ev.ErrorEvent)]
    assert asr and mt
    transcript = " ".join(e.text for e in asr)
    translation = " ".join(e.text for e in mt)
    ref = (speech_data_dir() / "fleurs" / "fleurs-es-002.txt").read_text().strip()
    wer = word_error_rate([ref], [transcript])
    chrf = corpus_chrf([translation], [_reference("fleurs-es-002", "en")]).score
    print(f"\ntranscript: {transcript}\nWER={wer:.3f}\ntranslation: {translation}\nchrF={chrf:.1f}")
    assert wer <= MAX_WER
    assert chrf >= MIN_CHRF_CASCADE
    assert all(e.language == "es" for e in asr)
    assert asr[0].words and asr[0].words[0].start_ms >= asr[0].start_ms - 1
    assert "endpoint_to_final" in mt[-1].latency_ms


async def test_fleurs_clip_direct_whisper_translation(speech_config, whisper_engine) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from rtt.metrics.quality import corpus_chrf
    from rtt.pipeline.components import Components
    from rtt.pipeline.session import SessionOptions
    from tests.speech_fixtures import FakeTranslator

    components = Components(speech_config, asr=whisper_engine, translator=FakeTranslator(fail=True))
    events = await _run(components, SessionOptions(source_lang="auto", target_lang="en", mode="direct"))
    mt = [e for e in events if isinstance(e, ev.FinalTranslation)]
    assert mt and mt[0].source_lang == "es"
    assert len({e.utterance_id for e in mt}) == len(mt)
    translation = " ".join(e.text for e in mt)
    chrf = corpus_chrf([translation], [_reference("fleurs-es-002", "en")]).score
    print(f"\ndirect translation: {translation}\nchrF={chrf:.1f}")
    assert chrf >= MIN_CHRF_DIRECT
