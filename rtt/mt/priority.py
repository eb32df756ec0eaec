"""Foreground work first: a gate that background inference waits at between tokens.

Why: the refinement pass re-translates finished sentences with a model ~6x slower than the live
tier.  On 2 cores, running it beside the live work (Whisper decodes, wait-k steps) would slow
the very latencies the live tier exists for.  llama.cpp cannot be interrupted inside a decode
call, but a generation is a sequence of small calls (prompt chunks, then one token each), so the
background job checks the gate between them: while any foreground work is in flight it waits,
and it gives the cores back within one token or prompt chunk (~50-150 ms on 2 cores for a 1.5B
model) instead of after the whole sentence (seconds).

Pausing alone leaves the background's in-flight token running beside the live step that just
started.  Two more things make that overlap harmless, measured on 2 cores (Gemma 270M wait-k
step beside a Qwen2.5 1.5B generation running back to back; step p50 alone 43 ms): background
work runs on one dedicated thread under ``SCHED_IDLE`` (the kernel runs it only on a CPU nothing
else wants and preempts it at once; on Linux the policy is per thread and the OpenMP workers
llama.cpp starts from that thread inherit it), and its llama.cpp context computes with one
thread (:data:`rtt.mt.llama_engine.BACKGROUND_THREADS`).  Step p50 beside the generation:
95 ms with plain threads, 68 ms gated with 2 idle-priority threads, 46 ms gated with 1.

The gate is shared by everything that serves one process (one per :class:`~rtt.translator.
Translator` / :class:`~rtt.pipeline.components.Components`), never a module global.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

log = logging.getLogger("rtt.priority")
BACKGROUND_NICE = 19  # where SCHED_IDLE is not available


class Cancelled(Exception):
    """Raised at a pause point when the background job was cancelled (its session went away)."""


class ForegroundGate:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._busy = 0
        self.waits = 0  # how many times background work paused for foreground work (a metric)
        self._executor: ThreadPoolExecutor | None = None
        self._executor_lock = threading.Lock()

    def background_executor(self) -> ThreadPoolExecutor:
        """The one low-priority thread that runs this process's background inference (created on
        first use; jobs of all sessions queue there in order)."""
        with self._executor_lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="rtt-background",
                                                    initializer=lower_thread_priority)
            return self._executor

    def close(self) -> None:
        with self._executor_lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    @contextmanager
    def foreground(self) -> Iterator[None]:
        """Mark live work in flight for the duration of the block."""
        with self._cond:
            self._busy += 1
        try:
            yield
        finally:
            with self._cond:
                self._busy -= 1
                if self._busy == 0:
                    self._cond.notify_all()

    @property
    def busy(self) -> bool:
        return self._busy > 0

    def pause_point(self, cancel: threading.Event | None = None) -> None:
        """Return when no foreground work is in flight; raise :class:`Cancelled` if ``cancel``
        is set (checked at least every 100 ms while waiting)."""
        with self._cond:
            if self._busy:
                self.waits += 1
            while self._busy:
                if cancel is not None and cancel.is_set():
                    raise Cancelled()
                self._cond.wait(0.1)
        if cancel is not None and cancel.is_set():
            raise Cancelled()

    def background_pause(self, cancel: threading.Event | None = None) -> PausePoint:
        """A callable for :attr:`rtt.mt.base.MtRequest.pause` bound to ``cancel``."""
        return PausePoint(self, cancel)


def lower_thread_priority() -> None:
    """Give the calling thread (and the threads it starts) the lowest CPU priority: SCHED_IDLE,
    else nice 19.  Neither needs a privilege; where the OS has neither it is a no-op."""
    tid = threading.get_native_id()
    try:
        os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))  # type: ignore[attr-defined]
        return
    except (AttributeError, OSError) as exc:  # pragma: no cover - platform dependent
        log.debug("no SCHED_IDLE for the background thread: %s", exc)
    try:
        os.setpriority(os.PRIO_PROCESS, tid, BACKGROUND_NICE)
    except (AttributeError, OSError) as exc:  # pragma: no cover - platform dependent
        log.debug("background thread keeps its priority: %s", exc)


class PausePoint:
    def __init__(self, gate: ForegroundGate, cancel: threading.Event | None) -> None:
        self.gate = gate
        self.cancel = cancel

    def __call__(self) -> None:
        self.gate.pause_point(self.cancel)
