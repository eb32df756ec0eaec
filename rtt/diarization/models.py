"""The two diarization models, loaded once and shared by every session."""

from __future__ import annotations

from dataclasses import dataclass

from rtt.config import DiarizationConfig
from rtt.diarization.encoder import SpeakerEncoder
from rtt.diarization.segmentation import Segmenter
from rtt.models.store import ModelStore


@dataclass(frozen=True)
class DiarizationModels:
    encoder: SpeakerEncoder
    segmenter: Segmenter
    config: DiarizationConfig

    @classmethod
    def load(cls, config: DiarizationConfig, store: ModelStore) -> DiarizationModels:
        return cls(SpeakerEncoder(store.resolve(config.encoder)), Segmenter(store.resolve(config.segmentation)),
                   config)
