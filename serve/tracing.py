"""Tracing for the service: the OpenTelemetry SDK, configured by the standard ``OTEL_*`` variables.

``OTEL_TRACES_EXPORTER`` picks the exporters (comma-separated): ``console`` prints each span as
JSON on stdout, ``otlp`` sends them to ``OTEL_EXPORTER_OTLP_ENDPOINT`` when
``opentelemetry-exporter-otlp`` is installed (it needs protobuf >= 5, so it is not part of the
default environment), ``none`` (the default here: a fresh box has no collector) turns tracing
off, and so does ``OTEL_SDK_DISABLED=true``.  ``OTEL_SERVICE_NAME`` and
``OTEL_RESOURCE_ATTRIBUTES`` name the service as usual.

With tracing on, every HTTP request and WebSocket connection gets a span from the FastAPI
instrumentation (per-frame ``receive``/``send`` spans are left out), gRPC calls from the gRPC
server instrumentation, and each realtime session its ``rtt.session`` span with one child per
stage step (:mod:`rtt.tracing`).  Each request carries an ``X-Request-ID`` (the client's, or a
new one, echoed in the response) as ``rtt.request_id``.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Mapping
from typing import Any

from opentelemetry import trace

log = logging.getLogger("rtt.serve")

REQUEST_ID_HEADER = b"x-request-id"


def exporters_from_env(environ: Mapping[str, str] | None = None) -> list[str]:
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    names = [n.strip().lower() for n in env.get("OTEL_TRACES_EXPORTER", "none").split(",")]
    return [n for n in names if n and n != "none"]


def configure_tracing(app: Any, environ: Mapping[str, str] | None = None, provider: Any = None) -> Any:
    """Install the SDK's tracer provider (once per process) and instrument ``app``; returns the
    provider, or None when tracing is off.  ``provider``: a ready one (tests: in-memory)."""
    names = exporters_from_env(environ)
    if provider is None and not names:
        return None
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    if provider is None:
        provider = _provider(names)
        if provider is None:
            return None
        trace.set_tracer_provider(provider)
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, exclude_spans=["receive", "send"])
    try:
        from opentelemetry.instrumentation.grpc import GrpcAioInstrumentorServer

        instrumentor = GrpcAioInstrumentorServer()
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument(tracer_provider=provider)
    except ImportError:
        log.warning("opentelemetry-instrumentation-grpc is not installed: gRPC calls are not traced")
    return provider


def _provider(names: list[str]) -> Any:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "rtt")}))
    added = 0
    for name in names:
        if name == "console":  # printed as each span ends, in order
            provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
            added += 1
        elif name == "otlp":
            try:
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            except ImportError:
                log.warning("OTEL_TRACES_EXPORTER=otlp needs opentelemetry-exporter-otlp (protobuf >= 5); "
                            "spans are not exported")
                continue
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
            added += 1
        else:
            log.warning("unknown OTEL_TRACES_EXPORTER %r ignored (console, otlp, none)", name)
    return provider if added else None


class RequestIdMiddleware:
    """``X-Request-ID`` in, out, and on the request's span (``rtt.request_id``)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(REQUEST_ID_HEADER, b"").decode("latin-1")[:64]
        request_id = given if given and given.isprintable() else uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = request_id
        current = trace.get_current_span()
        if current.is_recording():
            current.set_attribute("rtt.request_id", request_id)

        async def send_with_id(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (REQUEST_ID_HEADER, request_id.encode("latin-1"))]
            await send(message)

        await self.app(scope, receive, send_with_id)
