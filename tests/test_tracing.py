"""Tracing (rtt/tracing.py, serve/tracing.py): one trace per session with one span per stage
step of a real utterance, request ids on REST spans, and the OTEL_* switches."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from rtt.pipeline import events as ev
from serve.tracing import _provider, exporters_from_env
from tests.serve_fixtures import running_server
from tests.speech_fixtures import real_translator, speech_config, whisper_engine  # noqa: F401


@pytest.fixture(scope="module")
def spans() -> Iterator[InMemorySpanExporter]:
    """The process's tracer provider, recording in memory for this module (set once: OTel's
    global provider cannot be replaced), shut down afterwards so later tests record nothing."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    if trace.get_tracer_provider() is not provider:
        pytest.skip("another tracer provider was installed earlier in this process")
    yield exporter
    provider.shutdown()


def test_exporters_come_from_the_standard_variables() -> None:
    assert exporters_from_env({}) == []  # off by default: a fresh box has no collector
    assert exporters_from_env({"OTEL_TRACES_EXPORTER": "console, otlp"}) == ["console", "otlp"]
    assert exporters_from_env({"OTEL_TRACES_EXPORTER": "console", "OTEL_SDK_DISABLED": "true"}) == []
    provider = _provider(["console"])
    assert isinstance(provider, TracerProvider)
    provider.shutdown()


@pytest.mark.models
async def test_a_real_utterance_has_one_span_per_stage_under_its_session(
        spans: InMemorySpanExporter, speech_config: Any, whisper_engine: Any,  # noqa: F811
        real_translator: Any) -> None:  # noqa: F811
    from rtt.pipeline.components import Components
    from rtt.pipeline.session import SessionOptions
    from tests.test_pipeline_fleurs import _run

    spans.clear()
    components = Components(speech_config, asr=whisper_engine, translator=real_translator)
    events = await _run(components, SessionOptions(source_lang="es", target_lang="en", tts=True))
    session_ids = {s.attributes["rtt.session_id"] for s in spans.get_finished_spans() if s.name == "rtt.session"}
    assert [e for e in events if isinstance(e, ev.FinalTranslation)]
    finished = spans.get_finished_spans()
    root = [s for s in finished if s.name == "rtt.session"]
    assert len(root) == 1 and len(session_ids) == 1
    steps = [s for s in finished if s.name != "rtt.session"]
    names = {s.name for s in steps}
    assert {"rtt.vad.endpoint", "rtt.asr.decode", "rtt.mt.step", "rtt.refine", "rtt.tts.chunk"} <= names, names
    for s in steps:  # every step is a child of the session span, in its trace
        assert s.context.trace_id == root[0].context.trace_id and s.parent is not None
        assert s.parent.span_id == root[0].context.span_id, s.name
        assert isinstance(s.attributes["rtt.utterance_id"], int)
    decodes = [s for s in steps if s.name == "rtt.asr.decode"]
    assert {"partial", "final"} <= {s.attributes["rtt.kind"] for s in decodes}
    assert all(len(str(s.attributes["rtt.model_hash"])) == 12 and s.attributes["rtt.engine"] for s in decodes)
    mt = [s for s in steps if s.name == "rtt.mt.step"]
    assert any(s.attributes["rtt.final"] for s in mt) and all(s.attributes.get("rtt.tier") for s in mt)
    finals = [e for e in events if isinstance(e, ev.FinalAsr)]
    refines = [s for s in steps if s.name == "rtt.refine"]
    assert len(refines) == len(finals) and all(s.attributes["rtt.redecode"] for s in refines)


def test_rest_requests_carry_a_request_id(spans: InMemorySpanExporter) -> None:
    provider = trace.get_tracer_provider()
    with running_server(tracer_provider=provider) as srv:
        spans.clear()
        r = httpx.get(f"{srv.base_url}/v1/languages", headers={"X-Request-ID": "req-42"})
        assert r.status_code == 200 and r.headers["x-request-id"] == "req-42"
        fresh = httpx.get(f"{srv.base_url}/v1/languages").headers["x-request-id"]
        assert len(fresh) == 16 and fresh != "req-42"
    server_spans = [s for s in spans.get_finished_spans() if s.kind == trace.SpanKind.SERVER]
    assert {s.attributes.get("rtt.request_id") for s in server_spans} >= {"req-42", fresh}
