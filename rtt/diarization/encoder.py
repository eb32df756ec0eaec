"""Resemblyzer's speaker encoder (GE2E, 3-layer LSTM, 256-d) run in numpy.

The weights are ``resemblyzer/pretrained.pt`` from the ``resemblyzer`` wheel, assembled into the
model store (``rtt models pull resemblyzer-encoder``) and read without PyTorch
(rtt/diarization/torch_weights.py).  An utterance is cut into 1.6 s windows (1.3 a second), each
window's last hidden state goes through the linear layer, ReLU and L2 norm, and the utterance's
embedding is the normalized mean of its windows: Resemblyzer's ``embed_utterance``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rtt.diarization.mel import HOP, SAMPLE_RATE, mel_spectrogram
from rtt.diarization.torch_weights import load_legacy_checkpoint
from rtt.metrics.busy import BusyLock

WINDOW_FRAMES = 160  # 1.6 s of 10 ms frames
WINDOWS_PER_S = 1.3
MIN_COVERAGE = 0.75
TARGET_DBFS = -30.0
LAYERS = 3
CHECKPOINT = "pretrained.pt"


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free


def _normalize_volume(wav: np.ndarray) -> np.ndarray:
    # Raise quiet speech to -30 dBFS (never lower loud speech), as in training.
    rms = float(np.sqrt(np.mean(np.square(wav, dtype=np.float64)))) if len(wav) else 0.0
    if rms <= 1e-6:
        return wav
    change = TARGET_DBFS - 20 * np.log10(rms)
    return wav * (10 ** (change / 20)) if change > 0 else wav


def _windows(n_samples: int) -> list[slice]:
    n_frames = int(np.ceil((n_samples + 1) / HOP))
    step = int(np.round(SAMPLE_RATE / WINDOWS_PER_S / HOP))
    starts = list(range(0, max(1, n_frames - WINDOW_FRAMES + step + 1), step))
    slices = [slice(s, s + WINDOW_FRAMES) for s in starts]
    last = slices[-1]
    coverage = (n_samples - last.start * HOP) / (WINDOW_FRAMES * HOP)
    if coverage < MIN_COVERAGE and len(slices) > 1:
        slices.pop()
    return slices


class SpeakerEncoder:
    """Thread-safe: one encoder serves every session (its lock counts busy seconds)."""

    name = "resemblyzer"

    def __init__(self, model_dir: Path | str) -> None:
        self.model_dir = Path(model_dir)
        state = load_legacy_checkpoint(self.model_dir / CHECKPOINT)["model_state"]
        self._w_ih = [np.ascontiguousarray(state[f"lstm.weight_ih_l{i}"].T) for i in range(LAYERS)]
        self._w_hh = [np.ascontiguousarray(state[f"lstm.weight_hh_l{i}"].T) for i in range(LAYERS)]
        self._b = [state[f"lstm.bias_ih_l{i}"] + state[f"lstm.bias_hh_l{i}"] for i in range(LAYERS)]
        self._lin_w = np.ascontiguousarray(state["linear.weight"].T)
        self._lin_b = state["linear.bias"]
        self.dim = int(self._lin_b.shape[0])
        self.lock = BusyLock()

    def busy_seconds(self) -> float:
        return self.lock.seconds

    def _lstm(self, x: np.ndarray) -> np.ndarray:
        """Last hidden state of the top layer for a batch (B, T, 40)."""
        batch, steps, _ = x.shape
        seq = x
        for layer in range(LAYERS):
            hidden = self._w_hh[layer].shape[0]
            # The input projection of every step at once; only the recurrence is sequential.
            pre = seq.reshape(batch * steps, -1) @ self._w_ih[layer] + self._b[layer]
            pre = pre.reshape(batch, steps, 4 * hidden)
            h = np.zeros((batch, hidden), dtype=np.float32)
            c = np.zeros((batch, hidden), dtype=np.float32)
            outs = np.empty((batch, steps, hidden), dtype=np.float32)
            for t in range(steps):
                gates = pre[:, t] + h @ self._w_hh[layer]
                i, f, g, o = np.split(gates, 4, axis=1)  # torch's gate order
                c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
                h = _sigmoid(o) * np.tanh(c)
                outs[:, t] = h
            seq = outs
        return h

    def embed_windows(self, mels: np.ndarray) -> np.ndarray:
        """(B, 256) L2-normalized embeddings of (B, 160, 40) mel windows."""
        with self.lock:
            h = self._lstm(mels.astype(np.float32))
        raw = np.maximum(0.0, h @ self._lin_w + self._lin_b)
        return raw / np.maximum(np.linalg.norm(raw, axis=1, keepdims=True), 1e-9)

    def embed(self, wav: np.ndarray) -> np.ndarray:
        """The utterance's 256-d embedding (unit length) from 16 kHz float audio."""
        wav = _normalize_volume(np.asarray(wav, dtype=np.float32))
        slices = _windows(len(wav))
        need = slices[-1].stop * HOP
        if need > len(wav):
            wav = np.pad(wav, (0, need - len(wav)))
        mel = mel_spectrogram(wav)
        mels = np.stack([mel[s] for s in slices])
        partial = self.embed_windows(mels)
        mean = partial.mean(axis=0)
        return (mean / max(float(np.linalg.norm(mean)), 1e-9)).astype(np.float32)
