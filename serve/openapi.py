"""The OpenAPI document as the service really behaves: every error status it answers with the
service's error body, the request bodies of the routes that read them by hand, plain-text
and event-stream responses, and how to authenticate.

FastAPI derives most of the document from the routes; what it cannot see is added here, in one
place, so that a generated client or a fuzzer (schemathesis, in tests/test_serve_openapi.py)
learns the truth from it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from rtt.protocol import (
    ERROR_CODES,
    ErrorBody,
    InputResponse,
    SessionConfig,
    SessionCreatedResponse,
    TranslateRequest,
)

# Statuses of the service's error codes (docs/api.md, "Error codes"); 500 is an unexpected error.
ERROR_STATUSES = sorted({status for status, _ in ERROR_CODES.values()} | {405})
JSON = "application/json"


def _schema_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error_responses(schema: dict[str, Any]) -> dict[str, Any]:
    return {str(s): {"description": "error", "content": {JSON: {"schema": schema}}} for s in ERROR_STATUSES}


LIBRE_ERROR = {"type": "object", "properties": {"error": {"type": "string"}, "code": {"type": "string"}},
               "required": ["error"]}
LIBRE_BODY = {"type": "object", "properties": {
    "q": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
    "source": {"type": "string", "default": "auto"}, "target": {"type": "string"},
    "format": {"type": "string", "enum": ["text", "html"]}, "api_key": {"type": "string"}},
    "required": ["q", "target"]}
INPUT_BODY = {"oneOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}]}
READINESS = {"type": "object", "properties": {"ready": {"type": "boolean"}}, "required": ["ready"]}

# Routes whose body the handler parses itself (several content types, or the hello fields).
REQUEST_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("/v1/sessions", "post"): {"required": False, "content": {JSON: {"schema": _schema_ref("SessionConfig")}}},
    ("/v1/sessions/{session_id}/input", "post"): {"required": True, "content": {
        JSON: {"schema": INPUT_BODY},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
    ("/translate", "post"): {"required": True, "content": {
        JSON: {"schema": LIBRE_BODY}, "application/x-www-form-urlencoded": {"schema": LIBRE_BODY}}},
}
# Routes that answer with something other than JSON on success.
SUCCESS_CONTENT: dict[tuple[str, str], dict[str, Any]] = {
    ("/metrics", "get"): {"text/plain": {"schema": {"type": "string"}}},
    ("/v1/sessions/{session_id}/events", "get"): {"text/event-stream": {"schema": {"type": "string"}}},
}
PUBLIC = {("/healthz", "get"), ("/readyz", "get")}


def build_openapi(app: FastAPI) -> dict[str, Any]:
    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for model in (ErrorBody, SessionConfig, TranslateRequest, SessionCreatedResponse, InputResponse):
        for name, schema in model.model_json_schema(ref_template="#/components/schemas/{model}").get(
                "$defs", {}).items():
            schemas.setdefault(name, schema)
        schemas.setdefault(model.__name__, {k: v for k, v in model.model_json_schema(
            ref_template="#/components/schemas/{model}").items() if k != "$defs"})
    # Request validation answers 400 with the service's body (serve/app.py), never FastAPI's 422.
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    doc["components"]["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "an API key or a token from /v1/tokens"},
        "token": {"type": "apiKey", "in": "query", "name": "token", "description": "for browsers"},
    }
    for path, ops in doc.get("paths", {}).items():
        for method, op in ops.items():
            key = (path, method)
            responses = op.setdefault("responses", {})
            responses.pop("422", None)
            libre = path in ("/translate", "/languages")
            for status, body in _error_responses(LIBRE_ERROR if libre else _schema_ref("ErrorBody")).items():
                responses.setdefault(status, body)
            if key == ("/readyz", "get"):
                responses["503"] = {"description": "not ready", "content": {JSON: {"schema": READINESS}}}
            if key in REQUEST_BODIES:
                op["requestBody"] = REQUEST_BODIES[key]
            if key in SUCCESS_CONTENT:
                responses["200"] = {"description": "OK", "content": SUCCESS_CONTENT[key]}
            if key not in PUBLIC:
                op["security"] = [{"bearer": []}, {"token": []}, {}]  # {}: when no keys are configured
    return doc


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
