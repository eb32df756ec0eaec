"""Pipeline events (``rtt.pipeline.events``) as protocol server messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rtt.pipeline import events as ev
from rtt.protocol import (
    Error,
    FinalAsr,
    FinalTranslation,
    Notice,
    PartialAsr,
    PartialTranslation,
    RevisedAsr,
    RevisedTranslation,
    SpeechStarted,
    SpeechStopped,
    TtsAudio,
    Word,
)


def wire_words(words: Sequence[ev.WordTiming]) -> list[Word] | None:
    """A final's word times as protocol ``Word``s; None when there are none (not requested)."""
    return [Word(text=w.text, start_ms=w.start_ms, end_ms=w.end_ms, probability=w.probability)
            for w in words] or None


def event_to_message(event: Any, partial_results: bool) -> Any | None:
    """The server message for one event; None for events the client does not see."""
    if isinstance(event, ev.PartialTranslation):
        if not partial_results:
            return None
        return PartialTranslation(utterance_id=event.utterance_id, text=event.text, committed=event.committed,
                                  tentative=event.tentative, source_read=event.source_read, at_ms=event.at_ms,
                                  target_lang=event.target_lang or None)
    if isinstance(event, ev.FinalTranslation):
        return FinalTranslation(utterance_id=event.utterance_id, text=event.text, source_text=event.source_text,
                                source_lang=event.source_lang, target_lang=event.target_lang,
                                latency_ms=dict(event.latency_ms), at_ms=event.at_ms,
                                revision_pending=event.revision_pending, speaker=event.speaker)
    if isinstance(event, ev.RevisedTranslation):
        return RevisedTranslation(utterance_id=event.utterance_id, text=event.text,
                                  previous_text=event.previous_text, status=event.status,  # type: ignore[arg-type]
                                  latency_ms=dict(event.latency_ms), engine=event.engine, reason=event.reason,
                                  at_ms=event.at_ms, target_lang=event.target_lang or None)
    if isinstance(event, ev.RevisedAsr):
        return RevisedAsr(utterance_id=event.utterance_id, text=event.text, previous_text=event.previous_text,
                          status=event.status, language=event.language,  # type: ignore[arg-type]
                          latency_ms=dict(event.latency_ms), reason=event.reason, at_ms=event.at_ms)
    if isinstance(event, ev.PartialAsr):
        if not partial_results:
            return None
        return PartialAsr(utterance_id=event.utterance_id, text=event.text, committed=event.committed,
                          tentative=event.tentative, language=event.language, at_ms=event.at_ms)
    if isinstance(event, ev.FinalAsr):
        return FinalAsr(utterance_id=event.utterance_id, text=event.text, language=event.language,
                        start_ms=event.start_ms, end_ms=event.end_ms, at_ms=event.at_ms,
                        words=wire_words(event.words), speaker=event.speaker)
    if isinstance(event, ev.SpeechStarted):
        return SpeechStarted(utterance_id=event.utterance_id, at_ms=event.at_ms)
    if isinstance(event, ev.SpeechStopped):
        return SpeechStopped(utterance_id=event.utterance_id, at_ms=event.at_ms)
    if isinstance(event, ev.TtsAudio):
        return TtsAudio(utterance_id=event.utterance_id, chunk_index=event.chunk_index, audio=event.pcm16,
                        sample_rate=event.sample_rate, is_last=event.is_last, at_ms=event.at_ms,
                        target_lang=event.target_lang or None)
    if isinstance(event, ev.Notice):
        return Notice(code=event.code, message=event.message)
    if isinstance(event, ev.ErrorEvent):
        return Error(code=event.code, message=event.message, retry_after_ms=event.retry_after_ms)
    return None
