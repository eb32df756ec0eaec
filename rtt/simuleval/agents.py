"""SimulEval agents: text→text (a policy reading source words) and speech→text (Whisper
partials + LocalAgreement feeding the same policy).

SimulEval calls ``policy()`` once per source segment it sends (a word, or a chunk of audio) and
once per call after the source ends.  The agent pushes the new source into rtt's decoder and
writes every target word the decoder *committed* (never a tentative one), so SimulEval's delays
are exactly the ``source_read`` of rtt's committed words.
"""

from __future__ import annotations

from argparse import ArgumentParser, Namespace
from typing import Any

import numpy as np
from simuleval.agents import SpeechToTextAgent, TextToTextAgent
from simuleval.agents.actions import Action, ReadAction, WriteAction

from rtt.audio.pcm import PIPELINE_RATE


def _common_args(parser: ArgumentParser) -> None:
    parser.add_argument("--rtt-config", default=None, help="rtt config YAML (default: the packaged one)")
    parser.add_argument("--source-lang", required=True)
    parser.add_argument("--target-lang", required=True)
    parser.add_argument("--policy", default=None, help="wait-K, local-agreement-N, full-sentence")
    parser.add_argument("--stabilization", default=None, choices=["fast", "balanced", "aggressive"])
    parser.add_argument("--tier", default=None)


def _translator(args: Namespace) -> Any:
    from rtt.config import load_config
    from rtt.translator import Translator

    return Translator(load_config(args.rtt_config))


class RttTextAgent(TextToTextAgent):
    """Reads one source word per SimulEval step; writes the words rtt's policy commits."""

    def __init__(self, args: Namespace) -> None:
        self.sim: Any = None
        self.pushed = 0
        self.written = 0
        self.translator = self.build_translator(args)
        self.src, self.tgt = args.source_lang, args.target_lang
        self.policy_name, self.stabilization, self.tier = args.policy, args.stabilization, args.tier
        super().__init__(args)

    @staticmethod
    def add_args(parser: ArgumentParser) -> None:
        _common_args(parser)

    def build_translator(self, args: Namespace) -> Any:
        return _translator(args)

    def reset(self) -> None:
        super().reset()
        if getattr(self, "translator", None) is None:
            return
        self.sim = self.translator.simultaneous(
            self.src, self.tgt, policy=self.policy_name, stabilization=self.stabilization, tier=self.tier
        )
        self.pushed = 0
        self.written = 0

    def policy(self) -> Action:
        source: list[str] = self.states.source
        finished = bool(self.states.source_finished)
        new = source[self.pushed:]
        for i, word in enumerate(new):
            self.sim.push(word, source_finished=finished and i == len(new) - 1)
        if finished and not new and not self.sim.policy.finished:
            self.sim.push("", source_finished=True)
        self.pushed = len(source)
        emitted = self.sim.policy.emitted
        words = [w.text for w in emitted[self.written:]]
        self.written = len(emitted)
        if finished:
            return WriteAction(" ".join(words), finished=True)
        if words:
            return WriteAction(" ".join(words), finished=False)
        return ReadAction()


class RttSpeechAgent(SpeechToTextAgent):
    """Accumulates audio; every ``--asr-step-ms`` runs a Whisper partial whose LocalAgreement-
    committed words go to the MT policy; writes the target words the policy commits."""

    def __init__(self, args: Namespace) -> None:
        self.cascade: Any = None
        self.cascade = self.build_cascade(args)
        super().__init__(args)

    @staticmethod
    def add_args(parser: ArgumentParser) -> None:
        _common_args(parser)
        parser.add_argument("--asr-step-ms", type=int, default=None, help="audio between ASR partials")

    def build_cascade(self, args: Namespace) -> Any:
        from rtt.config import load_config
        from rtt.eval.cascade import SpeechCascade, asr_config_from, load_asr
        from rtt.translator import Translator

        config = load_config(args.rtt_config)
        return SpeechCascade(
            load_asr(config), Translator(config), args.source_lang, args.target_lang,
            policy=args.policy, stabilization=args.stabilization, tier=args.tier,
            asr_config=asr_config_from(config), step_ms=args.asr_step_ms or config.asr.partial_interval_ms,
        )

    def reset(self) -> None:
        super().reset()
        if getattr(self, "cascade", None) is not None:
            self.cascade.reset()

    def _audio(self) -> np.ndarray:
        audio = np.asarray(self.states.source, dtype=np.float32)
        rate = int(self.states.source_sample_rate or PIPELINE_RATE)
        if rate != PIPELINE_RATE and len(audio):
            from rtt.audio.resample import resample

            audio = resample(audio, rate, PIPELINE_RATE)
        return audio

    def policy(self) -> Action:
        finished = bool(self.states.source_finished)
        step = self.cascade.feed(self._audio(), finished)
        words = " ".join(step.new_target)
        if finished:
            return WriteAction(words, finished=True)
        if words:
            return WriteAction(words, finished=False)
        return ReadAction()
