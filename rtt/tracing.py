"""Spans for the pipeline's stage steps (OpenTelemetry API; a no-op until an SDK is configured).

One trace per realtime session: :meth:`rtt.pipeline.session.Session.start` opens the session's
root span and starts its stage tasks inside it, so every step's span (``rtt.vad.endpoint``,
``rtt.asr.decode``, ``rtt.mt.step``, ``rtt.refine``, ``rtt.tts.chunk``) is its child, in the
worker threads too (``asyncio.to_thread`` carries the context).  Attributes use the ``rtt.``
prefix: ``rtt.session_id``, ``rtt.utterance_id``, ``rtt.engine``, ``rtt.tier``, ``rtt.kind``...

Only the API is imported here: the SDK and its exporters are the service's business
(``serve/tracing.py``, configured by the standard ``OTEL_*`` variables).  Without them every
call below returns a non-recording span at the cost of a function call.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry import context, trace

TRACER_NAME = "rtt"


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME)


def enabled() -> bool:
    """An SDK provider is installed.  Until one is, the API's own no-op path still costs ~5 us
    a span (a proxy tracer, a context attach and detach), so the calls below skip it: tracing
    off costs a type check (``rtt bench tracing``, reports/ops/tracing.md)."""
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider | trace.NoOpTracerProvider)


def _attrs(attributes: dict[str, Any]) -> dict[str, Any]:
    return {f"rtt.{k}": v for k, v in attributes.items() if v is not None and v != ""}


@contextmanager
def span(name: str, **attributes: Any) -> Iterator[trace.Span]:
    """A child of the current span (the session's, inside a session)."""
    if not enabled():
        yield trace.INVALID_SPAN
        return
    with tracer().start_as_current_span(name, attributes=_attrs(attributes)) as s:
        yield s


def set_attributes(s: trace.Span, **attributes: Any) -> None:
    if s.is_recording():
        s.set_attributes(_attrs(attributes))


def start_root(name: str, **attributes: Any) -> trace.Span:
    """A span that is not made current (the session's: ended by ``Session.close``)."""
    if not enabled():
        return trace.INVALID_SPAN
    return tracer().start_span(name, attributes=_attrs(attributes))


@contextmanager
def within(s: trace.Span) -> Iterator[None]:
    """Make ``s`` the current span for the block (tasks created in it inherit it)."""
    if not s.get_span_context().is_valid:
        yield
        return
    token = context.attach(trace.set_span_in_context(s))
    try:
        yield
    finally:
        context.detach(token)
