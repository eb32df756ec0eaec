"""REST: text translation, short-clip transcription and speech translation, languages, tokens, data."""

from __future__ import annotations

import datetime
import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse

from rtt.audio.pcm import PIPELINE_RATE
from rtt.errors import RttError
from rtt.mt.base import billed_tokens
from rtt.protocol import (
    SAMPLE_RATES,
    ClipResponse,
    LanguagesResponse,
    ProtocolError,
    TokenRequest,
    TokenResponse,
    TranslateRequest,
    TranslateResponse,
    TranslationItem,
)
from rtt.subtitles import cues_from_spans, format_srt, format_webvtt
from serve.audio import check_clip_duration, decode_clip, pcm_to_pipeline_rate
from serve.auth import Principal
from serve.backend import language_infos
from serve.clips import process_clip
from serve.state import ServeState, get_state, require_principal
from serve.usage import nest
from serve.wire.errors import parse_glossary, rtt_error_to_protocol

router = APIRouter()
AuthDep = Annotated[Principal, Depends(require_principal)]


def _state(request: Request) -> ServeState:
    return get_state(request)


StateDep = Annotated[ServeState, Depends(_state)]


def ensure_ready(state: ServeState) -> None:
    if state.manager.draining:
        raise ProtocolError("SHUTTING_DOWN", "the server is shutting down", retry_after_ms=1000)
    if not state.backend.ready:
        raise ProtocolError("NOT_READY", "models are still loading", retry_after_ms=2000)


async def translate_texts(
    state: ServeState, principal: Principal, texts: list[str], source: str, target: str, **options: Any
) -> list[Any]:
    """Shared by /v1/translate and the LibreTranslate-compatible /translate."""
    await state.limiter.check_request(principal)
    ensure_ready(state)
    async with state.gate:
        try:
            outcomes: list[Any] = await state.run_blocking(
                lambda: state.backend.translate(texts, source, target, **options))
        except RttError as exc:
            raise rtt_error_to_protocol(exc) from None
    for text, o in zip(texts, outcomes, strict=False):
        cost = getattr(o, "cost", None)
        state.usage.record(principal.id, tier=getattr(o, "tier", None), mt_characters=len(text),
                           mt_tokens=billed_tokens(cost) if cost is not None else 0)
    return outcomes


@router.post("/v1/translate", response_model=TranslateResponse, tags=["text"])
async def translate(body: TranslateRequest, principal: AuthDep, state: StateDep) -> TranslateResponse:
    t0 = time.perf_counter()
    texts = [body.text] if isinstance(body.text, str) else list(body.text)
    outcomes = await translate_texts(
        state, principal, texts, body.source_lang, body.target_lang,
        tier=body.tier, glossary=parse_glossary(body.dictionary), formality=body.formality,
        punctuation=body.punctuation, mask_pii=body.mask_pii, mask_profanity=body.mask_profanity,
    )
    latency = (time.perf_counter() - t0) * 1000
    state.metrics.translate_latency_ms.observe(latency)
    items = [
        TranslationItem(text=o.text, source_lang=o.source_lang, detected_lang=o.detected_lang, engine=o.engine,
                        tier=o.tier)
        for o in outcomes
    ]
    return TranslateResponse(translation=items[0].text if isinstance(body.text, str) else None,
                             translations=items, text=items[0].text, detected_lang=items[0].detected_lang,
                             latency_ms=round(latency, 1))


async def _clip_bytes(request: Request, state: ServeState, file: UploadFile | None, sample_rate: int) -> bytes:
    max_s = state.settings.sizes.max_clip_seconds
    if file is not None:
        data = await file.read()
        if not data:
            raise ProtocolError("INVALID_AUDIO", "the uploaded file is empty")
        return await state.run_blocking(decode_clip, data, max_s)  # type: ignore[no-any-return]
    if request.headers.get("content-type", "").startswith("multipart/"):
        # The form was parsed (and its stream consumed) without a 'file' part.
        raise ProtocolError("MISSING_FIELD", "the multipart form has no 'file' part")
    raw = await request.body()
    if not raw:
        raise ProtocolError("MISSING_FIELD", "send the clip as multipart field 'file' or as a raw PCM16LE body")
    if len(raw) % 2:
        raise ProtocolError("INVALID_AUDIO", "PCM16 body has an odd number of bytes")
    if sample_rate not in SAMPLE_RATES:
        raise ProtocolError("UNSUPPORTED_AUDIO_FORMAT", f"sample_rate must be one of {SAMPLE_RATES}")
    check_clip_duration(len(raw) / 2 / sample_rate, max_s)
    return await state.run_blocking(pcm_to_pipeline_rate, raw, sample_rate)  # type: ignore[no-any-return]


async def _clip(
    request: Request, state: ServeState, principal: Principal, file: UploadFile | None,
    source_lang: str, target_lang: str | None, sample_rate: int, **options: Any,
) -> ClipResponse:
    """``options``: SessionOptions fields of the clip's session, by name (word_timestamps, ...)."""
    t0 = time.perf_counter()
    await state.limiter.check_request(principal)
    ensure_ready(state)
    pcm = await _clip_bytes(request, state, file, sample_rate)
    await state.limiter.check_audio(principal, len(pcm) / 2 / PIPELINE_RATE)
    state.usage.record(principal.id, audio_seconds=len(pcm) / 2 / PIPELINE_RATE)
    async with state.gate:
        result = await process_clip(state, pcm, source_lang, target_lang, principal.id, **options)
    result.latency_ms = round((time.perf_counter() - t0) * 1000, 1)
    return result


@router.post("/v1/transcribe", response_model=ClipResponse, tags=["speech"])
async def transcribe(
    request: Request, principal: AuthDep, state: StateDep,
    file: UploadFile | None = None,
    source_lang: Annotated[str, Query()] = "auto",
    sample_rate: Annotated[int, Query()] = PIPELINE_RATE,
    word_timestamps: Annotated[bool, Query()] = False,
    pii_masking: Annotated[bool | None, Query()] = None,
    profanity_masking: Annotated[bool | None, Query()] = None,
) -> ClipResponse:
    """A clip of at most ``serve.sizes.max_clip_seconds`` (60 s): multipart ``file`` (ogg, flac,
    wav, mp3, webm) or a raw PCM16LE 16 kHz body.  ``word_timestamps`` adds ``segments[].words``;
    ``pii_masking`` / ``profanity_masking`` mask the transcript (and translation) as a session's
    features do (default: the server's text.mask_pii / text.mask_profanity)."""
    return await _clip(request, state, principal, file, source_lang, None, sample_rate,
                       word_timestamps=word_timestamps, pii_masking=pii_masking, profanity_masking=profanity_masking)


@router.post("/v1/speech-translate", response_model=ClipResponse, tags=["speech"])
async def speech_translate(
    request: Request, principal: AuthDep, state: StateDep,
    target_lang: Annotated[str, Query()],
    file: UploadFile | None = None,
    source_lang: Annotated[str, Query()] = "auto",
    sample_rate: Annotated[int, Query()] = PIPELINE_RATE,
    word_timestamps: Annotated[bool, Query()] = False,
    pii_masking: Annotated[bool | None, Query()] = None,
    profanity_masking: Annotated[bool | None, Query()] = None,
) -> ClipResponse:
    return await _clip(request, state, principal, file, source_lang, target_lang, sample_rate,
                       word_timestamps=word_timestamps, pii_masking=pii_masking, profanity_masking=profanity_masking)


@router.get("/v1/languages", response_model=LanguagesResponse, tags=["text"])
async def languages(principal: AuthDep, state: StateDep) -> LanguagesResponse:
    return LanguagesResponse(languages=language_infos(), tiers=list(state.config.mt.tiers),
                             default_tier=state.config.mt.default_tier)


@router.post("/v1/tokens", response_model=TokenResponse, tags=["auth"])
async def mint_token(principal: AuthDep, state: StateDep, body: TokenRequest | None = None) -> TokenResponse:
    """A short-lived signed token for browsers (``?token=``), minted with an API key."""
    body = body or TokenRequest()
    if not state.auth.enabled:
        raise ProtocolError("FORBIDDEN", "no API keys are configured, so tokens are not needed")
    audience = body.audience or state.auth.audience
    token, exp = state.auth.mint_token(principal, body.ttl_s, audience)
    return TokenResponse(token=token, expires_at=exp, audience=audience)


@router.get("/v1/sessions/{session_id}/transcript", tags=["data"])
async def transcript(session_id: str, principal: AuthDep, state: StateDep) -> dict[str, Any]:
    entries = state.transcripts.get(session_id, principal.id)
    if entries is None:
        raise ProtocolError("NOT_FOUND", "no retained transcript for this session (retention may be off)")
    return {"session_id": session_id, "entries": entries}


@router.get("/v1/sessions/{session_id}/subtitles", tags=["data"], response_class=PlainTextResponse,
            responses={200: {"content": {"text/vtt": {}, "application/x-subrip": {}}}})
async def subtitles(session_id: str, principal: AuthDep, state: StateDep,
                    fmt: Annotated[Literal["vtt", "srt"], Query(alias="format")] = "vtt",
                    track: Literal["translation", "transcript"] = "translation",
                    target_lang: str | None = None) -> PlainTextResponse:
    """WebVTT or SRT for a session's retained finals (speech only: text input has no audio time).

    Needs transcript retention (``serve.retention.transcripts``); each utterance is cut into cues
    of at most two 42-character lines within its audio span.  ``target_lang``: which of the
    session's listener languages (default: the primary); with diarization the cues name their
    speaker (``<v Speaker 1>``)."""
    entries = state.transcripts.get(session_id, principal.id)
    if entries is None:
        raise ProtocolError("NOT_FOUND", "no retained transcript for this session (retention may be off)")
    key = "text" if track == "translation" else "source_text"
    target = target_lang or next((e.get("target_lang") for e in entries), None)
    cues = cues_from_spans((e["audio_start_ms"], e["audio_end_ms"], e[key], e.get("speaker")) for e in entries
                           if e.get("audio_start_ms") is not None and e.get("audio_end_ms") is not None
                           and e.get("target_lang") == target)
    if fmt == "srt":
        return PlainTextResponse(format_srt(cues), media_type="application/x-subrip")
    return PlainTextResponse(format_webvtt(cues), media_type="text/vtt")


@router.delete("/v1/sessions/{session_id}", tags=["data"])
async def delete_session(session_id: str, principal: AuthDep, state: StateDep) -> dict[str, Any]:
    """Close the session (if open) and delete everything kept about it."""
    closed = False
    managed = state.manager.sessions.get(session_id)
    if managed is not None and managed.principal.id == principal.id:
        await managed.end("deleted", drain=False)
        closed = True
    deleted = state.transcripts.delete_session(session_id, principal.id)
    if not closed and not deleted:
        raise ProtocolError("NOT_FOUND", "no such session for this key")
    return {"session_id": session_id, "closed": closed, "transcript_deleted": deleted}


@router.delete("/v1/data", tags=["data"])
async def delete_data(
    principal: AuthDep, state: StateDep, key: Annotated[str | None, Query()] = None
) -> dict[str, Any]:
    """Delete everything kept for an API key: open sessions, transcripts, rate counters.

    ``key`` must be the caller's own key (proof of ownership; a token cannot stand in for it)."""
    if state.auth.enabled:
        if not key:
            raise ProtocolError("MISSING_FIELD", "pass ?key=<your API key>")
        owner = state.auth.principal_for_key(key)
        if owner is None or owner.id != principal.id:
            raise ProtocolError("FORBIDDEN", "key does not match the credentials of this request")
    result = await state.manager.delete_owner_data(principal)
    return {"deleted": result}


def _instant(value: str | None, default: float, name: str) -> float:
    """ISO 8601 (a date, or a time with or without zone: UTC assumed) or epoch seconds."""
    if value is None or not value.strip():
        return default
    try:
        return float(value)
    except ValueError:
        pass
    try:
        moment = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ProtocolError("INVALID_FIELD", f"{name}: not an ISO 8601 time or epoch seconds: {value[:40]!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()


@router.get("/v1/usage", tags=["data"])
async def usage(
    principal: AuthDep, state: StateDep,
    start: Annotated[str | None, Query(alias="from")] = None,
    end: Annotated[str | None, Query(alias="to")] = None,
    key: Annotated[str | None, Query(description="admin keys only: 'all', or a key id (k:...)")] = None,
) -> dict[str, Any]:
    """What the calling key used from ``from`` to ``to`` (ISO 8601 or epoch seconds; default the
    last 24 hours), in hourly buckets: audio seconds in, characters and MT tokens per tier, TTS
    seconds out, sessions and their seconds.  No content is kept, only these amounts."""
    now = time.time()
    t_end = _instant(end, now, "to")
    t_start = _instant(start, t_end - 24 * 3600, "from")
    if t_start > t_end:
        raise ProtocolError("INVALID_FIELD", "from is after to")
    if key is not None and key != principal.id and not principal.admin:
        raise ProtocolError("FORBIDDEN", "only an admin key may read other keys' usage")
    who = None if key == "all" else (key or principal.id)
    report = await state.usage.report(who, t_start, t_end)
    iso = lambda t: datetime.datetime.fromtimestamp(t, datetime.UTC).isoformat()  # noqa: E731
    body: dict[str, Any] = {"from": iso(t_start), "to": iso(t_end), "granularity_s": 3600}
    if who is None:
        body["keys"] = report
    else:
        body["key"] = who
        body["usage"] = report.get(who, nest({}))
    return body


@router.get("/healthz", tags=["ops"])
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", tags=["ops"])
async def readyz(state: StateDep) -> JSONResponse:
    status = state.backend.status()
    ready = state.backend.ready and not state.manager.draining
    body = {"ready": ready, "models": status, "draining": state.manager.draining,
            "sessions": len(state.manager.sessions), "grpc_port": state.grpc_port}
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics", tags=["ops"])
async def metrics(principal: AuthDep, state: StateDep) -> PlainTextResponse:
    state.metrics.ready.set(1 if state.backend.ready else 0)
    state.metrics.observe_load(getattr(state.backend, "load_governor", None))
    state.metrics.observe_queues(state.manager.sessions.values())
    state.metrics.observe_quality(state.manager.quality)
    return PlainTextResponse(state.metrics.render(), media_type="text/plain; version=0.0.4")
