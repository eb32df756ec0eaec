"""Simultaneous-translation latency metrics, computed exactly as SimulEval 1.1.4's scorers.

Inputs of one segment:

* ``delays[i]``: how much source had been read when target word ``i`` was written, in source
  words (text input) or milliseconds of source audio (speech input);
* ``source_length``: the whole source, in the same unit;
* ``reference_length``: words in the reference translation, or ``None``.  SimulEval's default
  (``use_ref_len``) makes AL's rate and AP's denominator use the reference length when a
  reference exists; without one they use the hypothesis length ``len(delays)``.

The computation-aware (CA) variants take ``elapsed`` instead of ``delays``: for target word
``i``, the source consumed plus the wall-clock computation spent so far, in the same unit
(SimulEval: ``elapsed = delay_ms + (now - start) * 1000``).  They are the same formulas applied
to ``elapsed``; they only make sense for speech input, where the source unit is time.

Corpus scores are the mean of segment scores over the segments that emitted something, as
SimulEval reports them.  ``tests/test_metrics_latency.py`` cross-checks every function here
against SimulEval's own scorer classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from statistics import mean

from rtt.errors import InvalidInput


def _check(delays: Sequence[float], source_length: float) -> None:
    if len(delays) == 0:
        raise InvalidInput("latency of a segment that emitted no target word is undefined")
    if source_length <= 0:
        raise InvalidInput("source_length must be positive", source_length=source_length)


def _lagging(delays: Sequence[float], source_length: float, rate_length: float) -> float:
    # AL's sum stops at tau, the first target word written after the whole source was read.
    if delays[0] > source_length:
        return float(delays[0])
    gamma = rate_length / source_length
    total = 0.0
    tau = 0
    for t_minus_1, d in enumerate(delays):
        total += d - t_minus_1 / gamma
        tau = t_minus_1 + 1
        if d >= source_length:
            break
    return total / tau


def average_lagging(
    delays: Sequence[float], source_length: float, reference_length: int | None = None
) -> float:
    """AL (Ma et al. 2019, STACL); the rate uses the reference length when one is given."""
    _check(delays, source_length)
    target_length = len(delays) if reference_length is None else reference_length
    return _lagging(delays, source_length, target_length)


def length_adaptive_average_lagging(
    delays: Sequence[float], source_length: float, reference_length: int | None = None
) -> float:
    """LAAL (Papi et al. 2022): AL whose rate uses max(hypothesis length, reference length)."""
    _check(delays, source_length)
    target_length = len(delays) if reference_length is None else reference_length
    return _lagging(delays, source_length, max(len(delays), target_length))


def differentiable_average_lagging(delays: Sequence[float], source_length: float) -> float:
    """DAL (Arivazhagan et al. 2019); SimulEval always uses the hypothesis length here."""
    _check(delays, source_length)
    target_length = len(delays)
    gamma = target_length / source_length
    total = 0.0
    g_prime_last = 0.0
    for i_minus_1, g in enumerate(delays):
        g_prime = float(g) if i_minus_1 == 0 else max(float(g), g_prime_last + 1 / gamma)
        total += g_prime - i_minus_1 / gamma
        g_prime_last = g_prime
    return total / target_length


def average_proportion(
    delays: Sequence[float], source_length: float, reference_length: int | None = None
) -> float:
    """AP (Cho & Esipova 2016): sum(delays) / (|X| |Y|); |Y| is the reference length when given."""
    _check(delays, source_length)
    target_length = len(delays) if reference_length is None else reference_length
    return sum(delays) / (source_length * target_length)


def start_offset(delays: Sequence[float]) -> float:
    """Source read before the first target word."""
    if len(delays) == 0:
        raise InvalidInput("latency of a segment that emitted no target word is undefined")
    return float(delays[0])


def end_offset(delays: Sequence[float], source_length: float) -> float:
    """Source position of the last target word minus the source length (>= 0 for text)."""
    if len(delays) == 0:
        raise InvalidInput("latency of a segment that emitted no target word is undefined")
    return float(delays[-1] - source_length)


@dataclass(frozen=True)
class LatencyInstance:
    """One segment's latency trace."""

    delays: Sequence[float]
    source_length: float
    reference_length: int | None = None
    elapsed: Sequence[float] | None = None  # computation-aware timestamps, same unit as delays


@dataclass(frozen=True)
class LatencyScores:
    al: float
    laal: float
    dal: float
    ap: float
    start_offset: float
    end_offset: float
    # Computation-aware variants: None when no elapsed times were given.
    al_ca: float | None = None
    laal_ca: float | None = None
    dal_ca: float | None = None
    ap_ca: float | None = None
    start_offset_ca: float | None = None
    end_offset_ca: float | None = None

    def to_dict(self) -> dict[str, float | None]:
        return asdict(self)


def _scores(ts: Sequence[float], src: float, ref: int | None) -> tuple[float, ...]:
    return (
        average_lagging(ts, src, ref),
        length_adaptive_average_lagging(ts, src, ref),
        differentiable_average_lagging(ts, src),
        average_proportion(ts, src, ref),
        start_offset(ts),
        end_offset(ts, src),
    )


def segment_latency(instance: LatencyInstance) -> LatencyScores:
    base = _scores(instance.delays, instance.source_length, instance.reference_length)
    if instance.elapsed is None:
        return LatencyScores(*base)
    if len(instance.elapsed) != len(instance.delays):
        raise InvalidInput(
            "elapsed and delays must have one entry per target word",
            elapsed=len(instance.elapsed),
            delays=len(instance.delays),
        )
    ca = _scores(instance.elapsed, instance.source_length, instance.reference_length)
    return LatencyScores(*base, *ca)


def corpus_latency(instances: Sequence[LatencyInstance]) -> LatencyScores | None:
    """Mean of segment scores over segments that emitted words; None when none did.

    A CA mean is given only when every such segment has ``elapsed`` (a partial mean would
    silently describe a different subset).
    """
    scored = [segment_latency(ins) for ins in instances if len(ins.delays) > 0]
    if not scored:
        return None
    fields = ("al", "laal", "dal", "ap", "start_offset", "end_offset")
    base = [mean(getattr(s, f) for s in scored) for f in fields]
    if not all(s.al_ca is not None for s in scored):
        return LatencyScores(*base)
    ca = [mean(float(getattr(s, f"{f}_ca")) for s in scored) for f in fields]
    return LatencyScores(*base, *ca)
