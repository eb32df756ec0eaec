"""Prometheus metrics of one app instance (its own registry: two apps in a process don't mix)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS_MS = (50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000, 30000)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.http_requests = Counter(
            "rtt_http_requests", "HTTP requests", ["route", "method", "status"], registry=r
        )
        self.http_seconds = Histogram("rtt_http_request_seconds", "HTTP request duration", ["route"], registry=r)
        self.errors = Counter("rtt_errors", "Structured errors sent", ["code", "surface"], registry=r)
        self.sessions_active = Gauge("rtt_sessions_active", "Realtime sessions open", registry=r)
        self.sessions_opened = Counter("rtt_sessions_opened", "Realtime sessions opened", ["transport"], registry=r)
        self.messages_in = Counter("rtt_messages_in", "Client messages received", ["type"], registry=r)
        self.messages_out = Counter("rtt_messages_out", "Server messages sent", ["type"], registry=r)
        self.partials_dropped = Counter("rtt_partials_dropped", "Partial results dropped (slow reader)", registry=r)
        self.drains = Counter("rtt_drain_sent", "drain messages sent to clients", registry=r)
        self.audio_seconds = Counter("rtt_audio_seconds", "Audio seconds received", registry=r)
        self.final_latency_ms = Histogram(
            "rtt_final_latency_ms", "Endpoint (or text final) to final translation, ms",
            buckets=LATENCY_BUCKETS_MS, registry=r,
        )
        self.translate_latency_ms = Histogram(
            "rtt_translate_latency_ms", "REST translate latency, ms", buckets=LATENCY_BUCKETS_MS, registry=r
        )
        self.ready = Gauge("rtt_ready", "1 when models are loaded", registry=r)

    def render(self) -> bytes:
        return generate_latest(self.registry)
