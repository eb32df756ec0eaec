"""Live realtime sessions, independent of the transport that carries them.

A :class:`ManagedSession` wraps one pipeline session with what the service adds: an owner, a
``seq`` tracker, a bounded input queue fed to the session by one task, and an outbox filled by
another task from the session's events.  WebSocket, gRPC and SSE connections *attach* to a
session and read its outbox; when a connection drops the session waits ``resume_grace_s`` for
the client to come back with the same id before it is closed.

One reaper task enforces idle and silence timeouts, refreshes the session slots held in the
limit store and purges expired transcripts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from rtt.audio.container import DEMUXERS
from rtt.audio.pcm import PIPELINE_RATE
from rtt.errors import RttError
from rtt.languages import check_pair
from rtt.metrics import online
from rtt.metrics.online import RollingQe
from rtt.pipeline import events as ev
from rtt.pipeline.options import SessionOptions
from rtt.protocol import (
    DESIGN_VERSION,
    SAMPLE_RATES,
    Ack,
    Control,
    Drain,
    Error,
    InputAudio,
    InputText,
    Limits,
    Pong,
    ProtocolError,
    ServedBy,
    SessionConfig,
    SessionEnded,
    TtsAudio,
    decode_base64_audio,
)
from rtt.text.validation import check_unicode
from serve.audio import StreamMeter, audio_seconds, check_audio_frame, pcm_to_pipeline_rate, tts_as_opus
from serve.auth import Principal
from serve.backend import Backend, RealtimeSession
from serve.checkpoints import CheckpointStore, NoCheckpoints, SessionCheckpoint
from serve.limits import RateLimiter
from serve.metrics import Metrics
from serve.queues import Outbox, SeqTracker, SlowConsumer
from serve.retention import TranscriptStore
from serve.settings import ServeSettings
from serve.usage import UsageMeter
from serve.wire.errors import parse_glossary, rtt_error_to_protocol
from serve.wire.events import event_to_message
from serve.wire.options import options_from_config

log = logging.getLogger("serve.sessions")

# Fraction of the input queue at which the client is told to slow down.
DRAIN_HIGH_WATER = 0.75
DRAIN_EVERY_S = 0.5


@dataclass
class _Input:
    kind: str  # audio | text | control
    seq: int | None
    audio: bytes = b""
    text: str = ""
    final: bool = False
    control: Control | None = None
    seconds: float = 0.0  # audio: its duration, measured once at the edge


class ManagedSession:
    def __init__(
        self,
        session_id: str,
        principal: Principal,
        config: SessionConfig,
        options: SessionOptions,
        session: RealtimeSession,
        manager: SessionManager,
        transport: str,
        version: int | str = 1,
    ) -> None:
        s = manager.settings.sizes
        self.id = session_id
        self.principal = principal
        self.config = config
        self.options = options
        self.session = session
        # The dialect the session was opened in; the design's stamps each output with a seq.
        self.version = version
        self.accounted_seq: int | None = None  # last input seq whose effects the outputs include
        self._inputs_applied = 0
        self.manager = manager
        self.transport = transport
        self.seq = SeqTracker()
        # WebM/Ogg input is one stream across frames: its chunks are measured in order.
        self._meter = StreamMeter(options.audio_format) if options.audio_format in DEMUXERS else None
        # Each pending revision's direction, for the tier-agreement signal (one entry per final
        # awaiting its revised_translation, so bounded by the refinement backlog).
        self._revision_directions: dict[tuple[int, str], str] = {}
        # Finals delivered per utterance: with several targets the input is finalized (the
        # watermark moves) once every target's final is out.
        self._finals_out: dict[int, int] = {}
        self.outbox = Outbox(s.output_queue, s.max_pending_finals)
        self.inputs: asyncio.Queue[_Input | None] = asyncio.Queue(maxsize=s.input_queue)
        self.state = "open"  # open -> ending -> closed
        self.end_reason = ""
        self.generation = 0  # bumped by every attach; older connections stop reading
        self.attached = False
        now = time.monotonic()
        self.started_at = now
        self.detached_at: float | None = None
        self.last_input = now
        self.last_output = now  # a session still producing results for its client is not idle
        self.last_audio: float | None = None
        self.last_speech = now
        self._last_drain = 0.0
        # Checkpointing (serve/checkpoints.py): the finalized watermark and what moves it.
        self.watermark: int | None = None
        self._text_boundaries: deque[int] = deque()  # seqs of text inputs that closed a sentence
        self._audio_marks: deque[tuple[int, float]] = deque()  # (seq, audio ms pushed after it)
        self._audio_ms = 0.0
        self._utterance_offset = 0  # a taken-over session continues the old one's utterance ids
        self._next_utterance = 0
        self._tasks: list[asyncio.Task[Any]] = []
        self._done = asyncio.Event()

    # -- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        await self.session.start()
        self._tasks = [
            asyncio.create_task(self._pump(), name=f"pump-{self.id}"),
            asyncio.create_task(self._feed(), name=f"feed-{self.id}"),
        ]

    def attach(self) -> int:
        self.generation += 1
        self.attached = True
        self.detached_at = None
        return self.generation

    def detach(self, generation: int) -> None:
        if generation != self.generation:
            return  # a newer connection took over
        self.attached = False
        self.detached_at = time.monotonic()
        self.outbox.drop_partials()

    async def end(self, reason: str, drain: bool = True, error: ProtocolError | None = None,
                  timeout_s: float | None = None) -> None:
        """Stop taking input, let the session deliver its finals (``drain``, within ``timeout_s``), then close."""
        if self.state != "open":
            await self._done.wait()
            return
        self.state = "ending"
        self.end_reason = reason
        if error is not None:
            self.manager.metrics.errors.labels(error.code, self.transport).inc()
            self._put(Error(code=error.code, message=error.message, retry_after_ms=error.retry_after_ms,
                            fatal=True))
        timeout_s = timeout_s or self.manager.settings.timeouts.finish_s
        if drain:
            # The feeder finishes what is queued (inputs accepted before the end are processed).
            try:
                await asyncio.wait_for(self._put_input(None), timeout_s)
            except TimeoutError:
                drain = False
        await self._finish(drain, timeout_s)

    async def _finish(self, drain: bool, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        feeder = self._tasks[1] if len(self._tasks) > 1 else None
        if feeder is not None and drain:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(feeder), timeout_s)
        if feeder is not None and not feeder.done():
            feeder.cancel()
        try:
            await asyncio.wait_for(self.session.close(drain=drain), max(1.0, deadline - time.monotonic()))
        except Exception as exc:  # closing must not leak the session
            log.warning("session %s close: %s", self.id, type(exc).__name__)
        self._count_steps()
        pump = self._tasks[0] if self._tasks else None
        if pump is not None:
            try:
                await asyncio.wait_for(asyncio.shield(pump), 5.0)
            except Exception:
                pump.cancel()
        self._put(SessionEnded(session_id=self.id, reason=self.end_reason))
        self.outbox.close()
        self.state = "closed"
        self._done.set()
        await self.manager._forget(self)

    def _count_steps(self) -> None:
        mt = (getattr(self.session, "stats", None) or {}).get("mt") or {}
        self.manager.metrics.mt_steps.inc(mt.get("steps", 0))
        self.manager.metrics.mt_steps_coalesced.inc(mt.get("merged_items", 0))

    async def wait_closed(self) -> None:
        await self._done.wait()

    # -- input ---------------------------------------------------------------------------------
    async def submit(self, msg: InputAudio | InputText | Control, audio: bytes | None = None) -> list[Any]:
        """Accept one client message; returns connection-scoped replies (ack, pong, drain).

        Raises ``ProtocolError`` for input that is refused; the session stays usable.
        """
        seq = msg.seq
        self.last_input = time.monotonic()
        if self.state != "open":
            raise ProtocolError("SHUTTING_DOWN" if self.manager.draining else "NOT_FOUND",
                                "the session is ending", seq)
        if self.seq.is_duplicate(seq):
            return [Ack(seq=seq, duplicate=True)] if seq is not None else []
        replies: list[Any] = []
        if isinstance(msg, Control) and msg.action == "ping":
            replies.append(Pong(seq=seq, client_time=msg.client_time))
            self.seq.mark(seq)
            return replies
        if isinstance(msg, Control) and msg.action == "ack":
            if msg.event_id is None:
                raise ProtocolError("MISSING_FIELD", "ack needs event_id", seq)
            self.outbox.acknowledge(msg.event_id)
            self.seq.mark(seq)
            return [Ack(seq=seq)] if seq is not None else []
        item = await self._validate(msg, audio)
        if item.kind == "audio":
            seconds = item.seconds
            await self.manager.limiter.check_audio(self.principal, seconds, seq)
            if self._meter is not None:
                self._meter.commit()
            self.manager.usage.record(self.principal.id, audio_seconds=seconds)
        elif item.kind == "text" and item.text.strip():
            await self.manager.limiter.check_request(self.principal)
        self.seq.mark(seq)
        if seq is not None:
            replies.append(Ack(seq=seq))
        drain = self._maybe_drain()
        if drain is not None:
            replies.append(drain)
        await self._put_input(item)
        return replies

    async def _validate(self, msg: InputAudio | InputText | Control, audio: bytes | None) -> _Input:
        seq = msg.seq
        sizes = self.manager.settings.sizes
        if isinstance(msg, InputAudio) or audio is not None:
            data = audio if audio is not None else decode_base64_audio(msg.audio, seq)  # type: ignore[union-attr]
            if isinstance(msg, InputAudio):
                data = self._conform(msg, data)
            check_audio_frame(data, self.options.audio_format, sizes.max_audio_frame_bytes, seq)
            seconds = self._meter.measure(data, seq) if self._meter else audio_seconds(self.options, data)
            return _Input("audio", seq, audio=data, seconds=seconds)
        if isinstance(msg, InputText):
            limit = self.manager.backend.config.text.max_chars
            if len(msg.text) > limit:
                raise ProtocolError("TEXT_TOO_LONG", f"text has {len(msg.text)} characters; the limit is {limit}", seq)
            if not msg.text.strip() and not msg.final:
                raise ProtocolError("EMPTY_TEXT", "text is empty (send final=true to close a sentence)", seq)
            try:
                check_unicode(msg.text)
            except RttError as exc:
                raise rtt_error_to_protocol(exc, seq) from None
            return _Input("text", seq, text=msg.text, final=msg.final)
        if msg.action == "set_target_lang":
            if not msg.target_lang:
                raise ProtocolError("MISSING_FIELD", "set_target_lang needs target_lang", seq)
            try:
                check_pair(self.options.source_lang, msg.target_lang)
            except RttError as exc:
                raise rtt_error_to_protocol(exc, seq) from None
        if msg.action == "set_dictionary":
            if msg.dictionary is None:
                raise ProtocolError("MISSING_FIELD", "set_dictionary needs dictionary", seq)
            parse_glossary(msg.dictionary, seq)
        return _Input("control", seq, control=msg)

    def _conform(self, msg: InputAudio, data: bytes) -> bytes:
        """The design's per-message ``format``/``sample_rate`` against the session's audio."""
        fmt, rate = self.options.audio_format, self.options.sample_rate
        if msg.format is not None and msg.format != fmt:
            raise ProtocolError("UNSUPPORTED_AUDIO_FORMAT",
                                f"this session takes {fmt} audio (declared in hello), not {msg.format}", msg.seq)
        if msg.sample_rate is None or msg.sample_rate == rate:
            return data
        if fmt == "pcm16le" and rate == PIPELINE_RATE and msg.sample_rate in SAMPLE_RATES:
            if len(data) % 2:
                raise ProtocolError("INVALID_AUDIO", "PCM16 audio has an odd number of bytes", msg.seq)
            return pcm_to_pipeline_rate(data, msg.sample_rate)
        raise ProtocolError("UNSUPPORTED_AUDIO_FORMAT",
                            f"this session takes {rate} Hz audio, not {msg.sample_rate} Hz", msg.seq)

    def _maybe_drain(self) -> Drain | None:
        depth = self.inputs.qsize()
        now = time.monotonic()
        if depth < self.inputs.maxsize * DRAIN_HIGH_WATER or now - self._last_drain < DRAIN_EVERY_S:
            return None
        self._last_drain = now
        self.manager.metrics.drains.inc()
        return Drain(reason="input queue filling", retry_after_ms=int(DRAIN_EVERY_S * 1000), queue_depth=depth)

    async def _put_input(self, item: _Input | None) -> None:
        # Blocks only this client's reader when its queue is full (TCP backpressure on it alone).
        await self.inputs.put(item)

    async def _feed(self) -> None:
        while True:
            item = await self.inputs.get()
            if item is None:
                return
            try:
                self._account(item)  # outputs from here on include this input's effects
                await self._apply(item)
            except ProtocolError as exc:
                self._put(Error(code=exc.code, message=exc.message, seq=item.seq, retry_after_ms=exc.retry_after_ms))
            except RttError as exc:
                err = rtt_error_to_protocol(exc, item.seq)
                self._put(Error(code=err.code, message=err.message, seq=item.seq))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("session %s: input failed", self.id)
                self._put(Error(code="INTERNAL", message="processing this input failed", seq=item.seq))

    def _account(self, item: _Input) -> None:
        self._inputs_applied += 1
        if item.seq is not None:
            self.accounted_seq = item.seq
        elif self.seq.last is None:  # a client that sends no seqs: count its inputs (1, 2, ...)
            self.accounted_seq = self._inputs_applied

    async def _apply(self, item: _Input) -> None:
        s = self.session
        if item.kind == "audio":
            self.last_audio = time.monotonic()
            seconds = item.seconds
            self.manager.metrics.audio_seconds.inc(seconds)
            # Ordering and duplicates are settled here (seq spans every message type, so audio
            # seqs have gaps); the session's jitter buffer is for transports that reorder.
            await s.push_audio(item.audio, seq=None)
            self._audio_ms += seconds * 1000
            if item.seq is not None:
                self._audio_marks.append((item.seq, self._audio_ms))
            return
        if item.kind == "text":
            self.last_speech = time.monotonic()
            await s.push_text(item.text, final=item.final)
            if item.final and item.seq is not None:
                self._text_boundaries.append(item.seq)
            return
        ctl = item.control
        assert ctl is not None
        if ctl.action == "pause":
            await s.pause()
        elif ctl.action == "resume":
            await s.resume()
        elif ctl.action == "commit":
            await s.commit()
        elif ctl.action == "set_target_lang":
            await s.set_target_lang(ctl.target_lang or "")
            self.config = self.config.model_copy(update={"target_lang": ctl.target_lang})
        elif ctl.action == "set_dictionary":
            s.set_glossary(parse_glossary(ctl.dictionary, item.seq))
        elif ctl.action == "end":
            # Everything queued before `end` has been applied; close from outside the feeder.
            self.manager.spawn(self.end("client_end", drain=True))

    # -- output --------------------------------------------------------------------------------
    def _put(self, message: Any) -> None:
        try:
            self.outbox.put(message)
        except SlowConsumer as exc:
            if self.state == "open":
                log.warning("session %s: slow consumer (%s)", self.id, exc)
                self.manager.spawn(
                    self.end("slow_consumer", drain=False,
                             error=ProtocolError("SLOW_CONSUMER", "results were not read fast enough"))
                )

    async def _pump(self) -> None:
        metrics = self.manager.metrics
        try:
            async for event in self.session.events():
                self.last_output = time.monotonic()
                if isinstance(event, ev.SpeechStarted | ev.PartialAsr | ev.FinalAsr):
                    self.last_speech = time.monotonic()
                msg = event_to_message(event, self.options.partial_results)
                if msg is None:
                    continue
                if getattr(msg, "utterance_id", None) is not None:
                    msg.utterance_id += self._utterance_offset
                    self._next_utterance = max(self._next_utterance, msg.utterance_id + 1)
                if self.version == DESIGN_VERSION and hasattr(msg, "seq") and msg.type != "error":
                    msg.seq = self.accounted_seq
                if isinstance(msg, TtsAudio) and self.options.tts_format == "opus":
                    await tts_as_opus(msg)
                if isinstance(event, ev.FinalTranslation):
                    self._record_final(event)
                    if self._all_targets_final(event):
                        self._advance_watermark(event)
                    await self._checkpoint(msg)
                elif isinstance(event, ev.RevisedTranslation):
                    metrics.revisions.labels(event.status, event.reason).inc()
                    direction = self._revision_directions.pop((event.utterance_id, event.target_lang), None)
                    if direction is not None and event.status in ("revised", "unchanged"):
                        metrics.mt_tier_agreement.labels(direction).observe(
                            online.tier_agreement(event.previous_text, event.text))
                    self.manager.usage.record(self.principal.id, tier=event.tier or None, mt_tokens=event.tokens)
                    if event.status == "revised":
                        self.manager.transcripts.revise(self.id, event.utterance_id, event.target_lang or None,
                                                        text=event.text)
                elif isinstance(event, ev.RevisedAsr):
                    metrics.asr_revisions.labels(event.status, event.reason).inc()
                    if event.status == "revised":
                        self.manager.transcripts.revise(self.id, event.utterance_id, source_text=event.text)
                elif isinstance(event, ev.Notice):
                    metrics.notices.labels(event.code).inc()
                    if event.code == "TTS_UNAVAILABLE":
                        metrics.tts_failures.inc()
                elif isinstance(event, ev.TtsAudio) and event.sample_rate:
                    metrics.tts_chunks.inc()
                    self.manager.usage.record(self.principal.id, tts_seconds=len(event.pcm16) / 2 / event.sample_rate)
                if isinstance(msg, Error):
                    metrics.errors.labels(msg.code, self.transport).inc()
                before = self.outbox.dropped
                self._put(msg)
                if self.outbox.dropped > before:
                    metrics.partials_dropped.inc(self.outbox.dropped - before)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("session %s: event stream failed", self.id)
            self._put(Error(code="INTERNAL", message="the session's event stream failed", fatal=True))

    def _all_targets_final(self, event: ev.FinalTranslation) -> bool:
        n = self._finals_out.get(event.utterance_id, 0) + 1
        if n < len(self.options.targets):
            self._finals_out[event.utterance_id] = n
            return False
        self._finals_out.pop(event.utterance_id, None)
        return True

    def _advance_watermark(self, event: ev.FinalTranslation) -> None:
        """Move the finalized watermark past the inputs this final covers: the text input that
        closed its sentence, or the audio frames up to its end (plus half the endpoint's silence,
        so that a re-sent frame starts in silence, not in the words already finalized)."""
        if event.audio_end_ms is None:
            if self._text_boundaries:
                self.watermark = self._text_boundaries.popleft()
            return
        edge = event.audio_end_ms + self.manager.backend.config.vad.min_silence_ms / 2
        while self._audio_marks and self._audio_marks[0][1] <= edge:
            self.watermark = self._audio_marks.popleft()[0]

    def checkpoint(self, pending: Any = None) -> SessionCheckpoint:
        finals = self.outbox.replayable()
        if pending is not None:
            pending.event_id = self.outbox.next_event_id
            finals.append(pending)
        return SessionCheckpoint(
            session_id=self.id, principal_id=self.principal.id, transport=self.transport,
            protocol_version=self.version, config=self.config, last_seq=self.watermark,
            next_event_id=self.outbox.next_event_id + (1 if pending is not None else 0),
            next_utterance_id=self._next_utterance, finals=[m.model_dump(mode="json") for m in finals])

    async def _checkpoint(self, pending: Any = None) -> None:
        """Written before ``pending`` (a final) reaches the outbox: a final the client can see is
        always in the checkpoint.  A failed write costs the take-over, never the session."""
        store = self.manager.checkpoints
        if not store.enabled:
            return
        try:
            await store.save(self.checkpoint(pending))
        except Exception as exc:
            log.warning("session %s: checkpoint not written: %s", self.id, type(exc).__name__)

    def restore(self, cp: SessionCheckpoint) -> None:
        """Continue a session another replica held (before any input reaches this one)."""
        self.watermark = cp.last_seq
        self.accounted_seq = cp.last_seq
        self.seq.restore(cp.last_seq)
        self.outbox.restore(cp.next_event_id, cp.messages())
        self._utterance_offset = self._next_utterance = cp.next_utterance_id

    def _record_final(self, event: ev.FinalTranslation) -> None:
        self.manager.usage.record(self.principal.id, tier=event.tier or None,
                                  mt_characters=len(event.source_text), mt_tokens=event.tokens)
        m = self.manager.metrics
        direction = f"{event.source_lang}-{event.target_lang}"
        m.mt_finals.labels(direction).inc()
        if event.source_lang != event.target_lang:
            if online.untranslated(event.text, event.source_text):
                m.mt_untranslated.labels(direction).inc()
            elif online.wrong_language(event.text, event.target_lang):
                m.mt_wrong_language.labels(direction).inc()
            if self.manager.quality is not None:
                self.manager.quality.offer(direction, event.source_text, event.text)
            if event.revision_pending:
                self._revision_directions[(event.utterance_id, event.target_lang)] = direction
        lat = event.latency_ms.get("endpoint_to_final", event.latency_ms.get("input_to_final"))
        if lat is not None:
            self.manager.metrics.final_latency_ms.observe(lat)
        self.manager.transcripts.add(
            self.id,
            self.principal.id,
            {"utterance_id": event.utterance_id, "source_text": event.source_text, "text": event.text,
             "source_lang": event.source_lang, "target_lang": event.target_lang, "at": time.time(),
             # where the utterance sits in the session's audio (null for text input): subtitles
             "audio_start_ms": event.audio_start_ms, "audio_end_ms": event.audio_end_ms,
             "speaker": event.speaker},
        )


class SessionManager:
    def __init__(
        self,
        backend: Backend,
        settings: ServeSettings,
        limiter: RateLimiter,
        metrics: Metrics,
        transcripts: TranscriptStore,
        usage: UsageMeter,
        checkpoints: CheckpointStore | None = None,
    ) -> None:
        self.backend = backend
        self.checkpoints: CheckpointStore = checkpoints or NoCheckpoints()
        self.settings = settings
        self.limiter = limiter
        self.metrics = metrics
        self.transcripts = transcripts
        self.usage = usage
        self.quality = RollingQe() if settings.online_qe else None
        self.sessions: dict[str, ManagedSession] = {}
        self._served_by: ServedBy | None = None
        # Open transport connections (anything with ``pending() -> int``), for shutdown.
        self.connections: set[Any] = set()
        self._background: set[asyncio.Task[Any]] = set()
        self.draining = False
        self._reaper: asyncio.Task[None] | None = None
        t = settings.timeouts
        self.silence_s = t.silence_s if t.silence_s is not None else backend.config.vad.silence_timeout_s

    def served_by(self) -> ServedBy:
        """The config and model files of this process (computed once: they do not change while
        it runs; a new version is a new process)."""
        if self._served_by is None:
            from rtt.eval.provenance import model_versions

            config = self.backend.config
            models: dict[str, str] = {}
            for name, info in model_versions(config, list(config.mt.tiers), speech=True).items():
                digests = info.get("sha256") if isinstance(info, dict) else None
                if digests:
                    models[str(info.get("model") or name)] = str(next(iter(digests.values())))
            self._served_by = ServedBy(config=config.name, config_version=config.version, models=models,
                                       replica=os.environ.get("RTT_REPLICA") or f"{socket.gethostname()}:{os.getpid()}")
        return self._served_by

    def spawn(self, coro: Any, name: str | None = None) -> asyncio.Task[Any]:
        """A background task with a strong reference (the loop only keeps weak ones)."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    def limits(self) -> Limits:
        s, t = self.settings.sizes, self.settings.timeouts
        return Limits(
            max_message_bytes=s.max_message_bytes,
            max_audio_frame_bytes=s.max_audio_frame_bytes,
            max_text_chars=self.backend.config.text.max_chars,
            input_queue=s.input_queue,
            resume_grace_s=t.resume_grace_s,
            idle_timeout_s=t.idle_s,
            max_target_langs=self.backend.config.mt.max_targets,
        )

    def start(self) -> None:
        self._reaper = asyncio.get_running_loop().create_task(self._reap_forever(), name="session-reaper")

    async def restore(self, session_id: str, principal: Principal) -> ManagedSession | None:
        """A session another replica held, from its checkpoint (None: there is none for this key)."""
        if self.sessions.get(session_id) is not None:
            return None
        try:
            cp = await self.checkpoints.load(session_id)
        except Exception as exc:
            log.warning("checkpoint store unreachable: %s", type(exc).__name__)
            return None
        if cp is None or cp.principal_id != principal.id:
            return None
        managed = await self.create(principal, cp.config, cp.transport, None, version=cp.protocol_version,
                                    session_id=session_id, checkpoint=cp)
        log.info("session %s taken over from its checkpoint (last_seq %s, %d finals to replay)", session_id,
                 cp.last_seq, len(cp.finals))
        return managed

    async def create(self, principal: Principal, config: SessionConfig, transport: str,
                     seq: int | None = None, version: int | str = 1, *, session_id: str | None = None,
                     checkpoint: SessionCheckpoint | None = None) -> ManagedSession:
        if self.draining:
            raise ProtocolError("SHUTTING_DOWN", "the server is shutting down", seq, retry_after_ms=1000)
        if not self.backend.ready:
            raise ProtocolError("NOT_READY", "models are still loading", seq, retry_after_ms=2000)
        if len(self.sessions) >= self.settings.limits.max_sessions_total:
            raise ProtocolError("OVERLOADED", "the server has no room for another session", seq,
                                retry_after_ms=5000)
        options = options_from_config(config, seq)
        await self.limiter.check_request(principal)
        session_id = session_id or "s_" + secrets.token_urlsafe(12)
        await self.limiter.open_session(principal, session_id)
        try:
            session = self.backend.open_session(options, session_id)
            managed = ManagedSession(session_id, principal, config, options, session, self, transport, version)
            if checkpoint is not None:
                managed.restore(checkpoint)
            await managed.start()
            await managed._checkpoint()  # resumable from here on
        except RttError as exc:
            await self.limiter.close_session(principal, session_id)
            raise rtt_error_to_protocol(exc, seq) from None
        except BaseException:
            await self.limiter.close_session(principal, session_id)
            raise
        self.sessions[session_id] = managed
        log.info("session %s opened via %s by %s: %s->%s", session_id, transport, principal.id,
                 options.source_lang, options.target_lang)
        self.metrics.sessions_opened.labels(transport).inc()
        self.metrics.sessions_protocol.labels(str(version), transport).inc()
        self.metrics.sessions_active.set(len(self.sessions))
        self.usage.record(principal.id, sessions=1)
        return managed

    def get(self, session_id: str, principal: Principal) -> ManagedSession:
        managed = self.sessions.get(session_id)
        # Another key's session is reported as absent: ids must not leak across tenants.
        if managed is None or managed.principal.id != principal.id or managed.state != "open":
            raise ProtocolError("NOT_FOUND", f"no open session {session_id[:40]!r} for this key")
        return managed

    async def _forget(self, managed: ManagedSession) -> None:
        if self.sessions.get(managed.id) is managed:
            del self.sessions[managed.id]
        if managed.end_reason != "shutdown":  # a drained replica's sessions stay resumable elsewhere
            with contextlib.suppress(Exception):
                await self.checkpoints.delete(managed.id)
        log.info("session %s ended: %s (partials dropped for a slow reader: %d)", managed.id,
                 managed.end_reason, managed.outbox.dropped)
        self.metrics.sessions_active.set(len(self.sessions))
        self.usage.record(managed.principal.id, session_seconds=time.monotonic() - managed.started_at)
        try:
            await self.limiter.close_session(managed.principal, managed.id)
        except Exception as exc:  # the lease expires by itself if the store is unreachable
            log.warning("releasing session slot failed: %s", type(exc).__name__)

    async def delete_owner_data(self, principal: Principal) -> dict[str, int]:
        mine = [m for m in self.sessions.values() if m.principal.id == principal.id]
        await asyncio.gather(*(m.end("deleted", drain=False) for m in mine))
        removed = self.transcripts.delete_owner(principal.id)
        await self.limiter.forget(principal)
        return {"sessions_closed": len(mine), "transcripts_deleted": removed}

    async def shutdown(self) -> None:
        """Refuse new sessions, deliver finals in flight, close everything."""
        self.draining = True
        live = list(self.sessions.values())
        for m in live:
            m._put(Error(code="SHUTTING_DOWN", message="the server is shutting down; finals in flight follow",
                         retry_after_ms=1000))
        grace = self.settings.timeouts.shutdown_grace_s
        await asyncio.gather(*(m.end("shutdown", drain=True, timeout_s=grace) for m in live), return_exceptions=True)
        if self.quality is not None:
            self.quality.close()
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper

    async def wait_delivered(self, timeout_s: float) -> None:
        """Give attached connections a moment to send what the sessions produced while ending."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and any(c.pending() for c in list(self.connections)):
            await asyncio.sleep(0.05)

    # -- timeouts ------------------------------------------------------------------------------
    async def _reap_forever(self) -> None:
        period = max(0.05, min(1.0, self.settings.timeouts.idle_s / 4, self.silence_s / 4))
        refresh_every = 20.0
        last_refresh = time.monotonic()
        while True:
            await asyncio.sleep(period)
            try:
                await self._reap_once()
                if time.monotonic() - last_refresh > refresh_every:
                    last_refresh = time.monotonic()
                    owners: dict[str, list[str]] = {}
                    for m in self.sessions.values():
                        owners.setdefault(m.principal.id, []).append(m.id)
                    await self.limiter.refresh(owners)
                self.transcripts.purge_expired()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reaper pass failed")

    async def _reap_once(self) -> None:
        now = time.monotonic()
        t = self.settings.timeouts
        for m in list(self.sessions.values()):
            if m.state != "open":
                continue
            if m.detached_at is not None and now - m.detached_at > t.resume_grace_s:
                self.spawn(m.end("abandoned", drain=False))
            elif now - max(m.last_input, m.last_output) > t.idle_s:
                self.spawn(
                    m.end("idle_timeout", error=ProtocolError("IDLE_TIMEOUT", f"no input for {t.idle_s:g} s"))
                )
            elif (m.options.vad and m.last_audio is not None and m.last_audio > m.last_speech
                  and now - m.last_speech > self.silence_s):
                self.spawn(
                    m.end("silence_timeout",
                          error=ProtocolError("SILENCE_TIMEOUT", f"no speech for {self.silence_s:g} s"))
                )
