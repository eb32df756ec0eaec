"""Stage 4: final translations -> speech, streamed in ``chunk_ms`` pieces.

Synthesis is optional comfort: when it fails the client is told once (a ``Notice``) and
captions carry on without audio for the rest of the session.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from rtt.pipeline.events import Event, FinalTranslation, Notice, TtsAudio
from rtt.tracing import set_attributes, span

log = logging.getLogger("rtt.pipeline")


class TtsStage:
    def __init__(
        self,
        router_getter: Callable[[], Any],
        *,
        voice: str | None,
        now_ms: Callable[[], float],
        emit: Callable[[Event], None],
        tag: str,
    ) -> None:
        self.queue: asyncio.Queue[FinalTranslation | None] = asyncio.Queue()
        self.router_getter = router_getter
        self.voice = voice
        self.now_ms = now_ms
        self.emit = emit
        self.tag = tag
        self.degraded = False
        self.first_chunk_ms: list[float] = []

    def _degrade(self, exc: BaseException) -> None:
        if not self.degraded:
            self.degraded = True
            log.warning("%s TTS disabled: %s", self.tag, exc)
            self.emit(Notice("TTS_UNAVAILABLE", f"speech synthesis failed ({exc}); captions continue", self.now_ms()))

    async def prewarm(self, lang: str) -> None:
        try:
            router = await asyncio.to_thread(self.router_getter)
            await asyncio.to_thread(router.prewarm, [lang])
        except Exception as exc:
            self._degrade(exc)

    async def run(self) -> None:
        while True:
            final = await self.queue.get()
            if final is None:
                return
            if self.degraded or not final.text.strip():
                continue
            try:
                await self._speak(final)
            except Exception as exc:
                self._degrade(exc)

    async def _speak(self, final: FinalTranslation) -> None:
        router = await asyncio.to_thread(self.router_getter)
        stream = await asyncio.to_thread(router.stream, final.text, final.target_lang, self.voice)
        first = True
        while True:
            with span("rtt.tts.chunk", utterance_id=final.utterance_id, voice=self.voice,
                      target_lang=final.target_lang) as s:
                chunk = await asyncio.to_thread(next, stream, None)
                if chunk is not None:
                    set_attributes(s, chunk_index=chunk.index, samples=len(chunk.pcm16) // 2)
            if chunk is None:
                return
            now = self.now_ms()
            if first:
                self.first_chunk_ms.append(now - final.at_ms)
                first = False
            self.emit(TtsAudio(final.utterance_id, chunk.index, chunk.pcm16, chunk.sample_rate, chunk.is_last, now,
                               final.target_lang))
