"""Prometheus metrics of one app instance (its own registry: two apps in a process don't mix)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

LATENCY_BUCKETS_MS = (50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000, 30000)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)
AGREEMENT_BUCKETS = (10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100)


class EngineCollector(Collector):
    """Model busy seconds and MT batch sizes, read from the loaded engines at scrape time (the
    engines count them; rtt/metrics/busy.py, rtt/mt/llama_batch.py)."""

    def __init__(self) -> None:
        self.source: Callable[[], Sequence[Any]] = list

    def collect(self) -> Iterator[Metric]:
        busy = CounterMetricFamily("rtt_model_busy_seconds", "Seconds each loaded model spent computing",
                                   labels=["engine"])
        batches = HistogramMetricFamily("rtt_mt_batch_requests", "Requests decoded together per batched MT step",
                                        labels=["engine"])
        for usage in self.source():
            busy.add_metric([usage.engine], usage.busy_s)
            sizes = usage.batch_sizes
            if sizes:
                buckets = [(str(float(bound)), sum(n for size, n in sizes.items() if size <= bound))
                           for bound in BATCH_BUCKETS]
                buckets.append(("+Inf", sum(sizes.values())))
                batches.add_metric([usage.engine], buckets, sum(size * n for size, n in sizes.items()))
        yield busy
        yield batches


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
        # Capacity: how the MT stage keeps up, and what gave way under load (rtt/pipeline/load.py).
        self.mt_steps = Counter("rtt_mt_steps", "Simultaneous MT steps run (sessions that ended)", registry=r)
        self.mt_steps_coalesced = Counter(
            "rtt_mt_steps_coalesced", "Word batches that waited for a running step and were read by the next one",
            registry=r)
        self.revisions = Counter("rtt_revisions", "Refinement outcomes", ["status", "reason"], registry=r)
        self.asr_revisions = Counter("rtt_asr_revisions", "Refinement re-decodes of final transcripts (revised_asr)",
                                     ["status", "reason"], registry=r)
        self.notices = Counter("rtt_notices", "Notices sent to clients", ["code"], registry=r)
        self.load_step_downs = Counter("rtt_load_step_downs", "Steps down in the load level (shared by sessions)",
                                       ["step"], registry=r)
        self.load_level = Gauge("rtt_load_level", "What gives way now: 0 nothing, 1 refinement, 2 + tentative"
                                " words, 3 + the live tier", registry=r)
        self.load_final_p95_ms = Gauge("rtt_load_final_p95_ms", "Rolling p95 of final latency the load level"
                                       " follows", registry=r)

        # Online quality signals of live finals (rtt/metrics/online.py), per direction.
        self.mt_finals = Counter("rtt_mt_finals", "Final translations delivered", ["direction"], registry=r)
        self.mt_untranslated = Counter("rtt_mt_untranslated", "Finals that are empty or repeat the source",
                                       ["direction"], registry=r)
        self.mt_wrong_language = Counter("rtt_mt_wrong_language", "Finals whose language ID is not the target",
                                         ["direction"], registry=r)
        self.mt_tier_agreement = Histogram(
            "rtt_mt_tier_agreement", "chrF of the live final against the refinement tier's translation of the"
            " same sentence (100: the better model agreed)", ["direction"], buckets=AGREEMENT_BUCKETS, registry=r)
        self.mt_qe_similarity = Gauge("rtt_mt_qe_similarity", "Rolling mean QE similarity (USE-multilingual"
                                      " cosine of source and live final), not a quality metric", ["direction"],
                                      registry=r)
        self.tts_chunks = Counter("rtt_tts_chunks", "Synthesized speech chunks sent", registry=r)
        self.tts_failures = Counter("rtt_tts_failures", "Sessions whose speech synthesis failed (TTS_UNAVAILABLE: captions continue)", registry=r)
        self.queue_depth = Gauge("rtt_queue_depth", "Items waiting per pipeline stage, over open sessions",
                                 ["stage"], registry=r)
        self.sessions_protocol = Counter("rtt_sessions_protocol", "Realtime sessions opened by protocol version"
                                         " and transport", ["version", "transport"], registry=r)
        # Usage per API key (serve/usage.py), labelled by the key's hash prefix.
        self.usage_audio_seconds = Counter("rtt_usage_audio_seconds", "Audio seconds received", ["key"], registry=r)
        self.usage_tts_seconds = Counter("rtt_usage_tts_seconds", "Synthesized speech seconds sent", ["key"],
                                         registry=r)
        self.usage_sessions = Counter("rtt_usage_sessions", "Realtime sessions opened", ["key"], registry=r)
        self.usage_session_seconds = Counter("rtt_usage_session_seconds", "Realtime session seconds (closed)",
                                             ["key"], registry=r)
        self.usage_mt_characters = Counter("rtt_usage_mt_characters", "Source characters translated",
                                           ["key", "tier"], registry=r)
        self.usage_mt_tokens = Counter("rtt_usage_mt_tokens", "MT tokens (prompt evaluated + generated)",
                                       ["key", "tier"], registry=r)

        self.engines = EngineCollector()
        r.register(self.engines)

        self._step_downs_seen: dict[str, int] = {}

    def observe_queues(self, sessions: Any) -> None:
        """Sum each stage's waiting items over the open sessions (sampled at scrape time)."""
        totals: dict[str, int] = {"input": 0, "output": 0}
        for managed in list(sessions):
            totals["input"] += managed.inputs.qsize()
            totals["output"] += len(managed.outbox)
            depths = getattr(managed.session, "queue_depths", None)
            for stage, n in (depths() if depths is not None else {}).items():
                totals[stage] = totals.get(stage, 0) + n
        for stage, n in totals.items():
            self.queue_depth.labels(stage).set(n)

    def observe_quality(self, quality: Any) -> None:
        """Copy the rolling QE similarity per direction into its gauge."""
        if quality is None:
            return
        for direction, mean in quality.means().items():
            self.mt_qe_similarity.labels(direction).set(mean)

    def observe_load(self, governor: Any) -> None:
        """Copy the load governor's state into the gauges and its step counts into the counter."""
        if governor is None:
            return
        self.load_level.set(governor.level)
        self.load_final_p95_ms.set(governor.p95_ms or 0.0)
        for step, n in governor.counts.step_downs.items():
            seen = self._step_downs_seen.get(step, 0)
            if n > seen:
                self.load_step_downs.labels(step).inc(n - seen)
                self._step_downs_seen[step] = n

    def render(self) -> bytes:
        return generate_latest(self.registry)
