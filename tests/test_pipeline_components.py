import contextlib
import threading
import time

from rtt.config import load_config
from rtt.pipeline.components import Components


def test_models_load_once_lazily_under_concurrency() -> None:
    calls = []

    class Counting(Components):
        def _load_asr(self):  # type: ignore[no-untyped-def]
            calls.append(threading.get_ident())
            time.sleep(0.05)
            return object()

    comp = Counting(load_config())
    assert calls == []  # nothing loads at construction
    results = []
    threads = [threading.Thread(target=lambda: results.append(comp.asr)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert all(r is results[0] for r in results)


def test_failed_load_is_retried_not_cached() -> None:
    attempts = []

    class Flaky(Components):
        def _load_asr(self):  # type: ignore[no-untyped-def]
            attempts.append(1)
            if len(attempts) == 1:
                raise RuntimeError("disk hiccup")
            return "engine"

    comp = Flaky(load_config())
    with contextlib.suppress(RuntimeError):
        comp.asr  # noqa: B018
    assert comp.asr == "engine"


def test_each_stream_gets_its_own_vad() -> None:
    comp = Components(load_config())
    a, b = comp.make_vad(), comp.make_vad()
    assert a is not b and a.frame_samples == 512  # Silero v5: 32 ms at 16 kHz
