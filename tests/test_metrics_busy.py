"""Model busy seconds (rtt/metrics/busy.py) and how the service exports them with the batch sizes
(serve/metrics.py EngineCollector), on the real lock and the real Prometheus collector."""

from __future__ import annotations

import threading
import time

from prometheus_client.parser import text_string_to_metric_families

from rtt.metrics.busy import BusyLock, busy_seconds
from rtt.pipeline.components import EngineUsage
from serve.metrics import Metrics


def test_busy_lock_counts_only_the_time_it_was_held() -> None:
    lock = BusyLock()
    with lock:
        time.sleep(0.05)
    assert 0.05 <= lock.seconds < 1 and lock.holds == 1
    waited = threading.Event()

    def contend() -> None:
        waited.set()
        with lock:
            pass

    with lock:
        t = threading.Thread(target=contend)
        t.start()
        waited.wait(5)
        time.sleep(0.05)  # the other thread waits: waiting is not busy time
    t.join(5)
    assert lock.holds == 3 and lock.seconds < 0.05 + 0.05 + 0.5
    assert not lock.locked()


def test_busy_seconds_is_none_for_an_engine_that_does_not_count() -> None:
    assert busy_seconds(object()) is None


def test_the_collector_exports_busy_seconds_and_a_batch_size_histogram() -> None:
    m = Metrics()
    m.engines.source = lambda: [EngineUsage("asr", 1.5, {}), EngineUsage("mt:fast", 2.0, {1: 3, 4: 2, 20: 1})]
    families = {f.name: f for f in text_string_to_metric_families(m.render().decode())}
    busy = {s.labels["engine"]: s.value for s in families["rtt_model_busy_seconds"].samples}
    assert busy == {"asr": 1.5, "mt:fast": 2.0}
    samples = {(s.name, s.labels.get("le")): s.value for s in families["rtt_mt_batch_requests"].samples}
    assert samples[("rtt_mt_batch_requests_bucket", "1.0")] == 3
    assert samples[("rtt_mt_batch_requests_bucket", "4.0")] == 5
    assert samples[("rtt_mt_batch_requests_bucket", "16.0")] == 5
    assert samples[("rtt_mt_batch_requests_bucket", "+Inf")] == 6
    assert samples[("rtt_mt_batch_requests_count", None)] == 6
    assert samples[("rtt_mt_batch_requests_sum", None)] == 3 + 8 + 20
