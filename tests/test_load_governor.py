"""What gives way under load (rtt/pipeline/load.py): the level, and what sessions do and say.

The governor runs on a test clock, so its steps are decided by the latencies it is fed and the
time the test advances, not by how fast this machine is.  Sessions run on plumbing engines
(dictionary look-ups, tests/fakes.py): the slow tier sleeps in each step to overload the
budget; nothing they produce is a quality result.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from rtt.config import EngineConfig, LoadConfig, MtConfig, load_config
from rtt.mt.base import MtRequest, MtResult
from rtt.mt.registry import EngineRegistry
from rtt.pipeline import events as ev
from rtt.pipeline.components import Components
from rtt.pipeline.load import LoadGovernor, cheaper_tier
from rtt.pipeline.session import Session, SessionOptions
from rtt.translator import Translator
from tests.fakes import DictionaryEngine
from tests.speech_fixtures import ScriptedAsr

WORDS = {"hola": "hello", "amigo": "friend", "buenos": "good", "días": "morning"}


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def governor(**cfg: Any) -> tuple[LoadGovernor, Clock]:
    clock = Clock()
    base = {"final_p95_ms": 100.0, "window_s": 10.0, "min_samples": 2, "step_s": 2.0, "recover_s": 5.0}
    return LoadGovernor(LoadConfig(**{**base, **cfg}), clock=clock), clock


def test_steps_down_one_step_per_interval_while_over_budget_and_back_up_after_calm() -> None:
    g, clock = governor()
    g.observe(500)
    assert g.level == 0  # one sample is not enough
    clock.t += 2
    g.observe(500)
    assert g.level == 1 and g.sheds("refinement") and not g.sheds("tentative")
    g.observe(500)
    assert g.level == 1  # the next step waits step_s after the last change
    clock.t += 2
    g.observe(500)
    assert g.level == 2 and g.sheds("tentative") and not g.sheds("tier")
    clock.t += 2
    g.observe(500)
    assert g.level == 3 and g.sheds("tier") and not g.sheds("partials")
    clock.t += 2
    g.observe(500)
    clock.t += 2
    g.observe(500)
    assert g.level == 4 and g.sheds("partials")  # all steps taken: nothing further
    assert g.counts.step_downs == {"refinement": 1, "tentative": 1, "tier": 1, "partials": 1}
    # Between the thresholds (under budget, over half of it): nothing moves.
    clock.t += 11
    for _ in range(3):
        g.observe(80)
    clock.t += 6
    g.observe(80)
    assert g.level == 4
    # Calm: p95 under half the budget for recover_s, one step at a time.
    clock.t += 11
    g.observe(10)
    g.observe(10)
    clock.t += 5
    assert g.level == 3 and not g.sheds("partials") and g.sheds("tier")
    clock.t += 5
    assert g.level == 2 and not g.sheds("tier") and g.sheds("tentative")
    clock.t += 5
    assert g.level == 1
    clock.t += 5
    assert g.level == 0
    assert g.counts.step_ups == {"partials": 1, "tier": 1, "tentative": 1, "refinement": 1}


def test_no_finals_at_all_counts_as_calm_and_a_disabled_governor_never_sheds() -> None:
    g, clock = governor(step_s=0.0)
    g.observe(500)
    g.observe(500)
    assert g.level == 1
    clock.t += 11  # the samples age out: an idle service is not overloaded
    assert g.level == 1
    clock.t += 5
    assert g.level == 0
    off, clock = governor(enabled=False, step_s=0.0)
    for _ in range(10):
        off.observe(10_000)
        clock.t += 3
    assert off.level == 0 and not off.sheds("refinement")


def test_the_configured_steps_and_their_order_are_followed() -> None:
    g, _ = governor(steps=["tier"], step_s=0.0, min_samples=1)
    g.observe(500)
    assert g.sheds("tier") and not g.sheds("refinement") and g.level == 1


def test_cheaper_tier_skips_tiers_without_another_engine() -> None:
    order = ["accurate", "standard", "fast", "rule"]
    assert cheaper_tier(order, "standard", lambda t: t == "rule") == "rule"
    assert cheaper_tier(order, "standard", lambda t: t in ("fast", "rule")) == "fast"
    assert cheaper_tier(order, "rule", lambda t: True) is None
    assert cheaper_tier(order, "custom", lambda t: True) is None


# -- sessions under a synthetic overload ------------------------------------------------------------
class SlowEngine(DictionaryEngine):
    """The expensive tier: a dictionary look-up that sleeps in every step (the overload)."""

    name = "slow-plumbing"

    def __init__(self, delay_s: float) -> None:
        super().__init__(WORDS)
        self.delay_s = delay_s
        self.steps = 0

    def continue_prefix(self, request: MtRequest, max_new_words: int | None = None) -> MtResult:
        self.steps += 1
        time.sleep(self.delay_s)
        return super().continue_prefix(request, max_new_words)


def overloaded_components(clock: Clock) -> tuple[Components, SlowEngine, DictionaryEngine]:
    slow, cheap = SlowEngine(0.15), DictionaryEngine(WORDS)
    better = DictionaryEngine({**WORDS, "amigo": "buddy"})
    engines: dict[str, Any] = {"slow": slow, "cheap": cheap, "better": better}
    mt = MtConfig(engines={n: EngineConfig(backend="apertium") for n in engines},
                  tiers={"standard": {"*": ["slow"]}, "fast": {"*": ["cheap"]}, "accurate": {"*": ["better"]}},
                  default_tier="standard", refine_tier="accurate")
    config = load_config().model_copy(update={
        "mt": mt,
        "load": LoadConfig(final_p95_ms=100.0, window_s=10.0, min_samples=1, step_s=0.0, recover_s=1.0),
    })
    translator = Translator(config, engines=EngineRegistry(mt, builder=lambda n, c, s: engines[n]))
    comp = Components(config, asr=ScriptedAsr(), translator=translator)
    comp.load_governor = LoadGovernor(config.load, clock=clock)
    return comp, slow, cheap


async def _sentence(session: Session, sentence: str, events: list[ev.Event]) -> ev.FinalTranslation:
    """Types the sentence a word at a time, each word after the MT stage has taken the previous."""
    assert session.mt is not None
    words = sentence.split()
    finals = sum(isinstance(e, ev.FinalTranslation) for e in events)
    for i, w in enumerate(words):
        steps = session.mt.stats["steps"]
        await session.push_text(w, final=i == len(words) - 1)
        while session.mt.stats["steps"] == steps:
            await asyncio.sleep(0.005)
    while sum(isinstance(e, ev.FinalTranslation) for e in events) == finals:
        await asyncio.sleep(0.005)
    return [e for e in events if isinstance(e, ev.FinalTranslation)][-1]


async def test_overload_steps_a_session_down_with_one_notice_each_and_back_up() -> None:
    clock = Clock()
    comp, slow, cheap = overloaded_components(clock)
    session = Session(comp, SessionOptions(source_lang="es", target_lang="en"))
    await session.start()
    events: list[ev.Event] = []

    async def read() -> None:
        async for e in session.events():
            events.append(e)

    reader = asyncio.create_task(read())
    finals = [await _sentence(session, "hola amigo buenos días", events) for _ in range(5)]
    # Each final over the 100 ms budget took one step: refinement, tentative, tier (the fourth
    # sentence ran on the cheaper tier, and the slow samples still held p95 up), partials.
    assert comp.load_governor.level == 4
    assert slow.steps > 0 and cheap.calls
    assert [f.text for f in finals] == ["hello friend good morning"] * 5
    # With partials paused, the fifth sentence was one step at its end.
    assert [len(f.words) for f in finals][-1] == 4 and finals[-1].latency_ms["mt_steps"] == 4
    # The load eases (the expensive tier is quick again): the slow samples age out, and finals
    # far under half the budget take one step back each recover_s.
    slow.delay_s = 0.0
    clock.t += 11
    for _ in range(4):
        await _sentence(session, "hola amigo", events)
        clock.t += 1.5
    assert comp.load_governor.level == 0
    await _sentence(session, "buenos días amigo", events)
    await session.close()
    await reader

    notices = [e.code for e in events if isinstance(e, ev.Notice)]
    assert notices == ["LOAD_REFINEMENT_SKIPPED", "LOAD_TENTATIVE_THINNED", "LOAD_TIER_DOWN",
                       "LOAD_PARTIALS_PAUSED", "LOAD_PARTIALS_RESUMED", "LOAD_TIER_UP",
                       "LOAD_TENTATIVE_RESTORED", "LOAD_REFINEMENT_RESUMED"]
    tier_down = next(e for e in events if isinstance(e, ev.Notice) and e.code == "LOAD_TIER_DOWN")
    assert "'fast'" in tier_down.message and "'standard'" in tier_down.message
    revisions = {r.utterance_id: r for r in events if isinstance(r, ev.RevisedTranslation)}
    all_finals = [e for e in events if isinstance(e, ev.FinalTranslation)]
    assert set(revisions) == {f.utterance_id for f in all_finals}  # still exactly one answer each
    skipped = [r for r in revisions.values() if r.status == "skipped"]
    assert skipped and {r.reason for r in skipped} == {"load"}
    assert revisions[all_finals[-1].utterance_id].status == "revised"  # after it eased
    # While tentative words were thinned, partial translations showed committed words only.
    thinned = events.index(next(e for e in events if isinstance(e, ev.Notice) and e.code == "LOAD_TENTATIVE_THINNED"))
    restored = events.index(next(e for e in events if isinstance(e, ev.Notice) and e.code == "LOAD_TENTATIVE_RESTORED"))
    partials = [e for e in events[thinned:restored] if isinstance(e, ev.PartialTranslation)]
    assert partials and all(p.tentative == "" for p in partials)
    assert any(e.tentative for e in events[:thinned] if isinstance(e, ev.PartialTranslation))
