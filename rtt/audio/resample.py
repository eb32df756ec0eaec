"""Polyphase-free but exact rational resampling for the few rates the service accepts.

Rates are 8/16/24/48 kHz into 16 kHz, so the ratios are 2/1, 1/1, 2/3 and 1/3: a short
windowed-sinc FIR at the upsampled rate is cheap enough in numpy and keeps state across
chunks, so a stream resampled chunk by chunk equals the whole signal resampled at once.
"""

from __future__ import annotations

from math import gcd

import numpy as np

from rtt.audio.pcm import PIPELINE_RATE, check_rate

_HALF_TAPS_PER_PHASE = 16


def _design_lowpass(up: int, down: int) -> np.ndarray:
    factor = max(up, down)
    half = _HALF_TAPS_PER_PHASE * factor
    n = np.arange(-half, half + 1, dtype=np.float64)
    cutoff = 0.45 / factor  # cycles per (upsampled) sample, a little under Nyquist of the slower side
    h = 2 * cutoff * np.sinc(2 * cutoff * n) * np.kaiser(len(n), 8.0)
    h *= up / h.sum()  # unity gain after zero-stuffing by `up`
    return h.astype(np.float32)


class StreamingResampler:
    """Resample a stream chunk by chunk; ``flush()`` returns the filter's tail at the end."""

    def __init__(self, rate_in: int, rate_out: int = PIPELINE_RATE) -> None:
        check_rate(rate_in)
        g = gcd(rate_in, rate_out)
        self.rate_in = rate_in
        self.rate_out = rate_out
        self.up = rate_out // g
        self.down = rate_in // g
        self.passthrough = self.up == self.down == 1
        if not self.passthrough:
            self._h = _design_lowpass(self.up, self.down)
            self._delay = (len(self._h) - 1) // 2  # group delay in upsampled samples
            self._history = np.zeros(len(self._h) - 1, dtype=np.float32)
            self._phase = self._delay  # next output index in the upsampled stream (delay-compensated)
            self._consumed = 0  # upsampled samples already pushed

    def process(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        if self.passthrough or not len(x):
            return x.copy() if self.passthrough else np.zeros(0, dtype=np.float32)
        stuffed = np.zeros(len(x) * self.up, dtype=np.float32)
        stuffed[:: self.up] = x
        return self._filter(stuffed)

    def _filter(self, stuffed: np.ndarray) -> np.ndarray:
        buf = np.concatenate([self._history, stuffed])
        # buf[i] is upsampled sample (consumed - len(history) + i); output y[t] needs buf up to t.
        start_abs = self._consumed - len(self._history)
        end_abs = self._consumed + len(stuffed)  # exclusive
        self._history = buf[-(len(self._h) - 1):]
        self._consumed = end_abs
        # Output sample at absolute upsampled index t (t = phase, phase+down, ...) with t < end_abs.
        if self._phase >= end_abs:
            return np.zeros(0, dtype=np.float32)
        ts = np.arange(self._phase, end_abs, self.down)
        self._phase = int(ts[-1]) + self.down
        idx = ts - start_abs  # position of t inside buf
        full = np.convolve(buf, self._h, mode="full")  # full[i] = sum h[k] buf[i-k]
        y = full[idx]
        return y.astype(np.float32)

    def flush(self) -> np.ndarray:
        if self.passthrough:
            return np.zeros(0, dtype=np.float32)
        return self._filter(np.zeros(self._delay + self.down, dtype=np.float32))


def resample(x: np.ndarray, rate_in: int, rate_out: int = PIPELINE_RATE) -> np.ndarray:
    """One-shot resampling with the same filter the stream uses; output length = round(n*out/in)."""
    if rate_in == rate_out:
        return np.asarray(x, dtype=np.float32)
    r = StreamingResampler(rate_in, rate_out)
    y = np.concatenate([r.process(x), r.flush()])
    n_out = int(round(len(x) * rate_out / rate_in))
    return y[:n_out]
