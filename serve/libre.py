"""LibreTranslate-compatible ``POST /translate`` and ``GET /languages``.

Existing LibreTranslate clients (and tools built on them) work unchanged: JSON or form bodies
with ``q``, ``source``, ``target``, ``format``, ``api_key``; answers ``{"translatedText": ..}``
plus ``detectedLanguage`` when ``source`` is ``auto``, and errors as ``{"error": "..."}``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from rtt.languages import LANGUAGES
from rtt.protocol import ProtocolError, http_status, load_json_object
from serve.auth import bearer_from_header
from serve.state import client_addr, get_state

router = APIRouter(tags=["libretranslate"])


def libre_error(exc: ProtocolError) -> JSONResponse:
    headers = {"Retry-After": str(max(1, (exc.retry_after_ms or 0) // 1000))} if exc.retry_after_ms else None
    return JSONResponse({"error": exc.message, "code": exc.code}, status_code=http_status(exc.code), headers=headers)


async def _body(request: Request) -> dict[str, Any]:
    ctype = request.headers.get("content-type", "")
    if "application/json" in ctype:
        return load_json_object(await request.body(), "body")
    form = await request.form()
    return {k: (form.getlist(k) if len(form.getlist(k)) > 1 else form.get(k)) for k in form}


def _confidences(texts: list[str]) -> list[float]:
    """LibreTranslate reports the detection confidence in percent."""
    from rtt.text.langid import identify_language

    out = []
    for text in texts:
        try:
            out.append(round(identify_language(text)[1] * 100, 1))
        except Exception:  # a text without letters has no language; the translation still stands
            out.append(0.0)
    return out


@router.post("/translate")
async def translate(request: Request) -> JSONResponse:
    from serve.rest import translate_texts

    state = get_state(request)
    try:
        body = await _body(request)
        cred = body.get("api_key") or bearer_from_header(request.headers.get("authorization"))
        principal = state.auth.authenticate(cred if isinstance(cred, str) else None, client_addr(request))
        q = body.get("q")
        if q is None:
            raise ProtocolError("MISSING_FIELD", "Invalid request: missing q parameter")
        if not (isinstance(q, str) or (isinstance(q, list) and all(isinstance(x, str) for x in q))):
            raise ProtocolError("INVALID_FIELD", "q must be a string or a list of strings")
        source = body.get("source") or "auto"
        target = body.get("target")
        if not isinstance(target, str) or not target:
            raise ProtocolError("MISSING_FIELD", "Invalid request: missing target parameter")
        if not isinstance(source, str):
            raise ProtocolError("INVALID_FIELD", "source must be a string")
        fmt = body.get("format") or "text"
        if fmt not in ("text", "html"):
            raise ProtocolError("INVALID_FIELD", "format must be text or html")
        if fmt == "html":
            raise ProtocolError("INVALID_INPUT", "format html is not supported; send plain text")
        texts = [q] if isinstance(q, str) else q
        outcomes = await translate_texts(state, principal, texts, source, target)
    except ProtocolError as exc:
        state.metrics.errors.labels(exc.code, "libre").inc()
        return libre_error(exc)
    translated: Any = [o.text for o in outcomes]
    body_out: dict[str, Any] = {"translatedText": translated[0] if isinstance(q, str) else translated}
    if source == "auto":
        confidences = await state.run_blocking(_confidences, texts)
        detected = [
            {"language": o.detected_lang or o.source_lang, "confidence": c}
            for o, c in zip(outcomes, confidences, strict=True)
        ]
        body_out["detectedLanguage"] = detected[0] if isinstance(q, str) else detected
    return JSONResponse(body_out)


@router.get("/languages")
async def languages(request: Request) -> JSONResponse:
    state = get_state(request)
    cred = request.query_params.get("api_key") or bearer_from_header(request.headers.get("authorization"))
    try:
        state.auth.authenticate(cred, client_addr(request))
    except ProtocolError as exc:
        return libre_error(exc)
    codes = sorted(LANGUAGES)
    return JSONResponse([
        {"code": c, "name": LANGUAGES[c].name, "targets": [t for t in codes if t != c]} for c in codes
    ])
