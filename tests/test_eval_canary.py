"""Canary routing and go/no-go, with dictionary plumbing fixtures as the two configs."""

from __future__ import annotations

from rtt.eval.canary import CanaryCriteria, decide, routes_to_candidate, run_canary
from rtt.eval.segments import EvalSegment
from rtt.eval.text_runner import TextRunSettings
from tests.eval_fixtures import ES_EN, FakeTranslator

IDS = [f"general:es-en:{i}" for i in range(2000)]
SENTENCES = ["hola a todos", "el gato come pescado", "la casa es grande", "usted puede pagar ahora",
             "buenas tardes a todos"]
SEGS = [EvalSegment(f"s:{i}", SENTENCES[i % len(SENTENCES)], None, "es", "en") for i in range(40)]


def test_routing_is_deterministic_and_close_to_the_share() -> None:
    picked = [i for i in IDS if routes_to_candidate(i, 0.1)]
    assert picked == [i for i in IDS if routes_to_candidate(i, 0.1)]
    assert 0.07 < len(picked) / len(IDS) < 0.13


def test_raising_the_share_only_moves_segments_to_the_candidate() -> None:
    small = {i for i in IDS if routes_to_candidate(i, 0.1)}
    large = {i for i in IDS if routes_to_candidate(i, 0.3)}
    assert small < large


def test_salt_reshuffles() -> None:
    a = {i for i in IDS if routes_to_candidate(i, 0.2)}
    b = {i for i in IDS if routes_to_candidate(i, 0.2, salt="other")}
    assert a != b


def test_same_system_on_both_arms_is_a_go() -> None:
    s = TextRunSettings("wait-2")
    result = run_canary(FakeTranslator(), FakeTranslator(), SEGS, 0.3, s, s, with_qe=False)
    assert result.go, result.reasons
    assert result.candidate["n_segments"] + result.baseline["n_segments"] == len(SEGS)
    assert {t.arm for t in result.traces} == {"baseline", "candidate"}


def test_failing_candidate_is_a_no_go() -> None:
    from rtt.errors import BackendUnavailable

    class Failing(FakeTranslator):
        def simultaneous(self, *a, **kw):  # type: ignore[no-untyped-def]
            raise BackendUnavailable("model missing")

    s = TextRunSettings("wait-2")
    result = run_canary(FakeTranslator(), Failing(), SEGS, 0.3, s, s, with_qe=False)
    assert not result.go
    assert any("error rate" in r for r in result.reasons)


def test_too_few_candidate_segments_is_no_go() -> None:
    s = TextRunSettings("wait-2")
    result = run_canary(FakeTranslator(), FakeTranslator(), SEGS[:5], 0.01, s, s, with_qe=False)
    assert not result.go and "raise --share" in result.reasons[0]


def test_decide_rules() -> None:
    base = {"n_segments": 20, "error_rate": 0.0, "final_latency_ms_p95": 1000.0, "normalized_erasure": 0.1,
            "qe_similarity": 0.8, "chrf": 50.0}
    crit = CanaryCriteria()
    assert decide(base, dict(base), crit) == []
    assert decide(base, {**base, "final_latency_ms_p95": 1300.0}, crit)
    assert decide(base, {**base, "normalized_erasure": 0.2}, crit)
    assert decide(base, {**base, "qe_similarity": 0.7}, crit)
    assert decide(base, {**base, "chrf": 40.0}, crit)
    assert decide(base, {**base, "final_latency_ms_p95": 1200.0, "chrf": 46.0}, crit) == []


def test_latency_jitter_on_a_fast_system_is_not_a_regression() -> None:
    # 0.2 ms -> 0.9 ms is +350% but only timer noise; 20 ms -> 100 ms is a real rise
    crit = CanaryCriteria()
    base = {"n_segments": 20, "error_rate": 0.0, "final_latency_ms_p95": 0.2}
    assert decide(base, {**base, "final_latency_ms_p95": 0.9}, crit) == []
    base = {"n_segments": 20, "error_rate": 0.0, "final_latency_ms_p95": 20.0}
    assert decide(base, {**base, "final_latency_ms_p95": 100.0}, crit)


def test_known_words_table_is_used() -> None:
    # the fixture really translates with its table (guards the two tests above from vacuity)
    assert FakeTranslator(ES_EN).translate(["el gato"], "es", "en")[0].text == "the cat"
