"""Short clips over REST (transcribe, speech-translate) run through a realtime session.

Using the same session as the streaming endpoints means a clip is segmented by the same VAD
and translated by the same policy as live speech, so REST and realtime results agree.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rtt.audio.pcm import PIPELINE_RATE
from rtt.errors import RttError
from rtt.pipeline import events as ev
from rtt.pipeline.driver import drive_session
from rtt.protocol import ClipResponse, ProtocolError, Segment
from serve.wire.errors import rtt_error_to_protocol
from serve.wire.events import wire_words
from serve.wire.options import transcription_options

CHUNK_MS = 500  # pushed as fast as the session takes them


def _placeholder_target(source_lang: str) -> str:
    # The session contract always has a target; transcription ignores what it translates.
    return "es" if source_lang == "en" else "en"


async def process_clip(state: Any, pcm: bytes, source_lang: str, target_lang: str | None,
                       principal_id: str | None = None, **options: Any) -> ClipResponse:
    """``options``: fields of the clip session's SessionOptions (word_timestamps, pii_masking, ...);
    the translation's usage is metered for ``principal_id`` (the audio by the caller)."""
    word_timestamps = bool(options.get("word_timestamps"))
    session_options = transcription_options(source_lang, target_lang or _placeholder_target(source_lang), **options)
    try:
        session = state.backend.open_session(session_options)
        await session.start()
    except RttError as exc:
        raise rtt_error_to_protocol(exc) from None
    run = await drive_session(session, pcm, chunk_ms=CHUNK_MS, commit=True)
    asr: dict[int, ev.FinalAsr] = {}
    mt: dict[int, ev.FinalTranslation] = {}
    errors: list[ev.ErrorEvent] = []
    for event in run.events:
        if isinstance(event, ev.FinalAsr):
            asr[event.utterance_id] = event
        elif isinstance(event, ev.FinalTranslation):
            mt[event.utterance_id] = event
            if principal_id is not None and target_lang:
                state.usage.record(principal_id, tier=event.tier or None, mt_characters=len(event.source_text),
                                   mt_tokens=event.tokens)
        elif isinstance(event, ev.RevisedAsr) and event.utterance_id in asr:
            asr[event.utterance_id] = replace(asr[event.utterance_id], text=event.text,
                                              words=() if event.status == "revised" else asr[event.utterance_id].words)
        elif isinstance(event, ev.RevisedTranslation) and event.utterance_id in mt:
            if principal_id is not None and target_lang:
                state.usage.record(principal_id, tier=event.tier or None, mt_tokens=event.tokens)
            # A whole clip waits for its end anyway: it returns the refined text.
            mt[event.utterance_id] = replace(mt[event.utterance_id], text=event.text)
        elif isinstance(event, ev.ErrorEvent):
            errors.append(event)
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
