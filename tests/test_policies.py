from __future__ import annotations

import pytest

from rtt.errors import InvalidInput
from rtt.metrics.latency import average_lagging
from rtt.policies.base import PolicyContext
from rtt.policies.factory import make_policy, parse_policy_name
from rtt.policies.local_agreement import LocalAgreementPolicy, common_prefix
from rtt.policies.wait_k import WaitKPolicy
from tests.fakes import DictionaryEngine

TABLE = {"hola": "hello", "a": "to", "todos": "everyone", "y": "and", "buenas": "good", "tardes": "afternoon"}
SOURCE = "hola a todos y buenas tardes".split()


def ctx(engine: DictionaryEngine | None = None) -> PolicyContext:
    return PolicyContext(engine or DictionaryEngine(TABLE), "es", "en")


def feed(policy, words):  # type: ignore[no-untyped-def]
    steps = []
    for i, w in enumerate(words):
        steps.append(policy.push([w], source_finished=i == len(words) - 1))
    return steps


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_wait_k_lags_k_words_and_finishes(k: int) -> None:
    policy = WaitKPolicy(ctx(), k=k)
    feed(policy, SOURCE)
    assert policy.committed_text == "hello to everyone and good afternoon"
    delays = [w.source_read for w in policy.emitted]
    # word i (0-based) is written after reading min(i + k, |source|) words
    assert delays == [min(i + k, len(SOURCE)) for i in range(len(SOURCE))]


def test_wait_k_average_lagging_equals_k_for_equal_lengths() -> None:
    policy = WaitKPolicy(ctx(), k=3)
    feed(policy, SOURCE)
    delays = [w.source_read for w in policy.emitted]
    assert average_lagging(delays, len(SOURCE), len(delays)) == pytest.approx(3.0)


def test_wait_k_asks_engine_for_only_the_words_it_needs() -> None:
    engine = DictionaryEngine(TABLE)
    policy = WaitKPolicy(ctx(engine), k=2)
    feed(policy, SOURCE[:4])
    budgets = [b for _, b in engine.calls]
    # one word per step while the source grows; the last (finished) step decodes to the end
    assert budgets == [1, 1, None]
    # every call continues the committed prefix
    assert [r.target_prefix for r, _ in engine.calls][:3] == ["", "hello", "hello to"]


def test_wait_k_tentative_tail_is_not_committed() -> None:
    policy = WaitKPolicy(ctx(), k=2, tentative_words=2)
    step = policy.push(["hola", "a"])
    assert [w.text for w in step.committed] == ["hello"]
    assert step.tentative == "to"
    step = policy.push(["todos"])
    assert policy.committed_text == "hello to"
    assert step.tentative == "everyone"


def test_committed_words_never_change() -> None:
    policy = LocalAgreementPolicy(ctx(), n=2)
    seen: list[str] = []
    for i, w in enumerate(SOURCE):
        step = policy.push([w], source_finished=i == len(SOURCE) - 1)
        seen.extend(x.text for x in step.committed)
        assert policy.committed_text == " ".join(seen)
    assert policy.committed_text == "hello to everyone and good afternoon"


def test_local_agreement_commits_only_agreed_prefix() -> None:
    policy = LocalAgreementPolicy(ctx(), n=2)
    first = policy.push(["hola"])
    assert first.committed == [] and first.tentative == "hello"
    second = policy.push(["a"])
    assert [w.text for w in second.committed] == ["hello"]
    assert second.tentative == "to"
    assert common_prefix([["a", "b", "c"], ["a", "b", "x"]]) == ["a", "b"]


def test_full_sentence_waits_for_the_end() -> None:
    policy = make_policy("full-sentence", ctx())
    steps = feed(policy, SOURCE)
    assert all(not s.committed for s in steps[:-1])
    assert all(w.source_read == len(SOURCE) for w in policy.emitted)


def test_emitted_words_carry_monotonic_timestamps() -> None:
    times = iter(range(100))
    c = PolicyContext(DictionaryEngine(TABLE), "es", "en", clock=lambda: float(next(times)))
    policy = WaitKPolicy(c, k=1)
    feed(policy, SOURCE)
    stamps = [w.time_s for w in policy.emitted]
    assert stamps == sorted(stamps) and stamps[0] > 0


@pytest.mark.parametrize(
    ("name", "stab", "kind", "param", "tentative"),
    [
        ("wait-3", None, "wait-k", 3, 2),
        ("wait5", "aggressive", "wait-k", 5, 0),
        ("wait-k", "fast", "wait-k", 2, 3),
        ("la-2", None, "local-agreement", 2, 0),
        ("local-agreement-3", None, "local-agreement", 3, 0),
        ("full-sentence", None, "full-sentence", 0, 0),
    ],
)
def test_parse_policy_name(name: str, stab: str | None, kind: str, param: int, tentative: int) -> None:
    spec = parse_policy_name(name, stab)
    assert (spec.kind, spec.param, spec.tentative_words) == (kind, param, tentative)


@pytest.mark.parametrize("bad", ["wait-0", "wait-999", "la-1", "beam-search", "local-agreement-99"])
def test_bad_policy_names_are_structured_errors(bad: str) -> None:
    with pytest.raises(InvalidInput):
        parse_policy_name(bad)


def test_bad_stabilization_is_structured_error() -> None:
    with pytest.raises(InvalidInput):
        parse_policy_name("wait-3", "turbo")


def test_sentence_end_is_not_committed_before_the_source_ends() -> None:
    engine = DictionaryEngine({"hola": "hello", "todos": "everyone.", "amigos": "friends."})
    policy = WaitKPolicy(ctx(engine), k=1)
    policy.push(["hola"])
    policy.push(["todos"])
    assert policy.committed_text == "hello everyone"  # the full stop is held back
    policy.push(["amigos"], source_finished=True)
    assert policy.committed_text == "hello everyone friends."
