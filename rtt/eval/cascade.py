"""A synchronous speech→text cascade for evaluation: incremental Whisper partials whose words
are committed by LocalAgreement, fed word by word to a simultaneous MT policy.

The live service runs the same stages in :class:`rtt.pipeline.session.Session` (asyncio, VAD,
queues).  Evaluation needs a deterministic, step-by-step driver instead, so that SimulEval
can call it once per audio chunk and the speech runner can attribute every target word to the
exact amount of audio read (its delay) and to the computation spent so far.  One call to
:meth:`feed` = one decision point.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rtt.asr.streaming import StreamingAsrConfig, UtteranceDecoder
from rtt.audio.pcm import PIPELINE_RATE


@dataclass
class CascadeStep:
    new_target: list[str] = field(default_factory=list)  # target words committed by this step
    shown: str = ""  # what a listener sees after this step (committed + tentative)
    source_words: int = 0  # ASR words handed to MT so far
    finished: bool = False
    compute_ms: float = 0.0
    asr_ms: float = 0.0  # the part of compute_ms spent in Whisper


class SpeechCascade:
    """``asr``: an :class:`rtt.asr.base.AsrEngine`; ``translator``: a ``Translator``."""

    def __init__(
        self,
        asr: Any,
        translator: Any,
        source_lang: str,
        target_lang: str,
        *,
        policy: str | None = None,
        stabilization: str | None = None,
        tier: str | None = None,
        asr_config: StreamingAsrConfig | None = None,
        step_ms: int = 500,
    ) -> None:
        self.asr = asr
        self.translator = translator
        self.source_lang = source_lang
        self.target_lang = target_lang
        self.policy = policy
        self.stabilization = stabilization
        self.tier = tier
        self.asr_config = asr_config or StreamingAsrConfig()
        self.step_samples = int(step_ms * PIPELINE_RATE / 1000)
        self.reset()

    def reset(self) -> None:
        self.decoder = UtteranceDecoder(self.asr, self.asr_config, language=self.source_lang)
        self.sim = self.translator.simultaneous(
            self.source_lang, self.target_lang, policy=self.policy, stabilization=self.stabilization, tier=self.tier
        )
        self._decoded_upto = 0
        self._fed_words = 0
        self._committed_target = 0
        self.transcript = ""
        self.finished = False
        self._shown = ""

    def _push_words(self, words: list[str], finished: bool) -> tuple[str, str]:
        committed, tentative = "", ""
        if not words and finished:
            words = [""]
        for i, w in enumerate(words):
            upd = self.sim.push(w, source_finished=finished and i == len(words) - 1)
            committed, tentative = upd.committed_text, upd.tentative
        self._fed_words += len([w for w in words if w])
        return committed, tentative

    def feed(self, audio: np.ndarray, source_finished: bool) -> CascadeStep:
        """``audio``: all samples of the utterance so far (16 kHz mono float32)."""
        step = CascadeStep()
        if self.finished:
            step.finished = True
            return step
        t0 = time.perf_counter()
        if source_finished:
            final = self.decoder.final(audio)
            step.asr_ms = (time.perf_counter() - t0) * 1000
            self.transcript = final.text
            words = final.text.split()[self._fed_words:]
            committed, tentative = self._push_words(words, True)
            self.finished = step.finished = True
        elif len(audio) - self._decoded_upto >= self.step_samples:
            self._decoded_upto = len(audio)
            hyp = self.decoder.partial(audio)
            step.asr_ms = (time.perf_counter() - t0) * 1000
            if hyp.new_committed:
                committed, tentative = self._push_words(hyp.new_committed, False)
                self._shown = f"{committed} {tentative}".strip()
        else:
            step.shown = self._shown
            return step
        if step.finished:
            self._shown = f"{committed} {tentative}".strip()
        emitted = self.sim.policy.emitted
        step.new_target = [w.text for w in emitted[self._committed_target:]]
        self._committed_target = len(emitted)
        step.shown = self._shown
        step.source_words = self._fed_words
        step.compute_ms = (time.perf_counter() - t0) * 1000
        return step

    @property
    def committed_text(self) -> str:
        return str(self.sim.policy.committed_text)


def load_asr(config: Any, store: Any = None) -> Any:
    """The configured Whisper model from the model store."""
    from rtt.asr.whisper_engine import WhisperEngine
    from rtt.models.store import ModelStore

    store = store or ModelStore()
    return WhisperEngine(store.resolve(config.asr.model), compute_type=config.asr.compute_type,
                         threads=config.asr.threads)


def asr_config_from(config: Any) -> StreamingAsrConfig:
    return StreamingAsrConfig(
        beam_size_partial=config.asr.beam_size_partial,
        beam_size_final=config.asr.beam_size_final,
        agreement_n=config.asr.agreement_n,
    )
