"""Short clips over REST (transcribe, speech-translate) run through a realtime session.

Using the same session as the streaming endpoints means a clip is segmented by the same VAD
and translated by the same policy as live speech, so REST and realtime results agree.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from rtt.errors import RttError
from rtt.languages import check_pair
from rtt.pipeline import events as ev
from rtt.protocol import ClipResponse, ProtocolError, Segment
from serve.backend import SessionSpec
from serve.sessions import rtt_error_to_protocol, wire_words

CHUNK_BYTES = 16000  # 0.5 s of 16 kHz PCM16 per push
PIPELINE_RATE = 16000


def _placeholder_target(source_lang: str) -> str:
    # The session contract always has a target; transcription ignores what it translates.
    return "es" if source_lang == "en" else "en"


async def process_clip(state: Any, pcm: bytes, source_lang: str, target_lang: str | None,
                       word_timestamps: bool = False) -> ClipResponse:
    try:
        check_pair(source_lang, target_lang or _placeholder_target(source_lang))
    except RttError as exc:
        raise rtt_error_to_protocol(exc) from None
    spec = SessionSpec(
        source_lang=source_lang,
        target_lang=target_lang or _placeholder_target(source_lang),
        partial_results=False,
        vad=True,
        sample_rate=PIPELINE_RATE,
        transcribe_only=target_lang is None,
        word_timestamps=word_timestamps,
    )
    try:
        session = state.backend.open_session(spec)
        await session.start()
    except RttError as exc:
        raise rtt_error_to_protocol(exc) from None
    asr: dict[int, ev.FinalAsr] = {}
    mt: dict[int, ev.FinalTranslation] = {}
    errors: list[ev.ErrorEvent] = []

    async def collect() -> None:
        async for event in session.events():
            if isinstance(event, ev.FinalAsr):
                asr[event.utterance_id] = event
            elif isinstance(event, ev.FinalTranslation):
                mt[event.utterance_id] = event
            elif isinstance(event, ev.RevisedTranslation) and event.utterance_id in mt:
                # A whole clip waits for its end anyway: it returns the refined text.
                mt[event.utterance_id] = replace(mt[event.utterance_id], text=event.text)
            elif isinstance(event, ev.ErrorEvent):
                errors.append(event)

    reader = asyncio.create_task(collect())
    try:
        for i in range(0, len(pcm), CHUNK_BYTES):
            await session.push_audio(pcm[i:i + CHUNK_BYTES])
        await session.commit()
    finally:
        await session.close(drain=True)
        await reader
    if errors and not asr and not mt:
        raise ProtocolError(errors[0].code, errors[0].message)
    segments: list[Segment] = []
    for utt in sorted(set(asr) | set(mt)):
        a, t = asr.get(utt), mt.get(utt)
        # A final translation carries its source text, for an utterance whose FinalAsr did not come.
        text = a.text if a is not None else (t.source_text if t is not None else "")
        segments.append(Segment(
            text=text,
            start_ms=a.start_ms if a is not None else 0.0,
            end_ms=a.end_ms if a is not None else 0.0,
            language=a.language if a is not None else (t.source_lang if t is not None else None),
            translation=t.text if (t is not None and target_lang) else None,
            words=wire_words(a.words) if (word_timestamps and a is not None) else None,
        ))
    language = next((s.language for s in segments if s.language), None)
    return ClipResponse(
        text=" ".join(s.text for s in segments if s.text).strip(),
        language=language,
        translation=" ".join(s.translation or "" for s in segments).strip() if target_lang else None,
        target_lang=target_lang,
        segments=segments,
        duration_s=round(len(pcm) / 2 / PIPELINE_RATE, 3),
        latency_ms=0.0,
    )
