"""Stabilization modes: one knob for users, mapped onto policy parameters.

The trade-off is how often a partial shown to the user is later revised (flicker) against how
far the committed translation lags behind the speaker.

============  ===============================  =====================================================
mode          policy                           behaviour
============  ===============================  =====================================================
fast          wait-2, 3 tentative words        lowest lag; tentative tail often revised
balanced      wait-3, 2 tentative words        default; short tail, occasional revisions
aggressive    wait-5, no tentative words       partials are only committed words: never revised,
                                               about two words more lag than ``balanced``
============  ===============================  =====================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Stabilization = Literal["fast", "balanced", "aggressive"]


@dataclass(frozen=True)
class StabilizationPreset:
    k: int
    tentative_words: int


PRESETS: dict[str, StabilizationPreset] = {
    "fast": StabilizationPreset(k=2, tentative_words=3),
    "balanced": StabilizationPreset(k=3, tentative_words=2),
    "aggressive": StabilizationPreset(k=5, tentative_words=0),
}
