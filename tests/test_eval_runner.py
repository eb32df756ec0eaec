"""Text runner, summary keys and run records, on the dictionary plumbing fixture (no model)."""

from __future__ import annotations

import pytest

from rtt.eval.runs import policy_label, run_record
from rtt.eval.segments import EvalSegment, file_segments
from rtt.eval.summary import METRIC_KEYS, summarize
from rtt.eval.text_runner import TextRunSettings, run_text, run_text_segment
from rtt.metrics.latency import average_lagging
from tests.eval_fixtures import FakeTranslator

SEG = EvalSegment("t:0", "hola a todos y buenas tardes", "hello everyone and good afternoon", "es", "en")


class Clock:
    """Each reading advances 10 ms: every push 'takes' 10 ms of simulated computation."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        self.t += 0.005
        return self.t


@pytest.mark.parametrize("k", [1, 2, 3])
def test_text_run_feeds_words_one_by_one_and_records_policy_delays(k: int) -> None:
    trace = run_text_segment(FakeTranslator(), SEG, TextRunSettings(f"wait-{k}", "aggressive"))
    assert trace.hypothesis == "hello to everyone and good afternoon"
    n = len(SEG.source.split())
    assert trace.delays == [float(min(i + k, n)) for i in range(n)]
    assert trace.source_length == n
    assert trace.error is None


def test_outputs_and_timings_on_a_simulated_clock() -> None:
    settings = TextRunSettings("wait-2", "aggressive", word_interval_ms=100.0)
    trace = run_text_segment(FakeTranslator(), SEG, settings, clock=Clock())
    # the first word shows at the 2nd word's arrival (100 ms) plus its 5 ms push
    assert trace.first_latency_ms == pytest.approx(105.0)
    # the last push starts when the last word arrives (500 ms) and takes 5 ms
    assert trace.final_latency_ms == pytest.approx(5.0)
    assert trace.outputs[-1] == trace.hypothesis
    assert all(b.startswith(a) for a, b in zip(trace.outputs, trace.outputs[1:], strict=False))


def test_slow_pushes_queue_up_behind_each_other() -> None:
    # interval 0: arrival never waits; final latency is all the computation
    trace = run_text_segment(FakeTranslator(), SEG, TextRunSettings("wait-2", "aggressive"), clock=Clock())
    assert trace.final_latency_ms == pytest.approx(5.0 * len(SEG.source.split()))


def test_final_tier_retranslates_and_counts_as_erasure() -> None:
    class Retranslating(FakeTranslator):
        def translate(self, texts, source_lang, target_lang, **kw):  # type: ignore[no-untyped-def]
            assert kw["tier"] == "accurate"
            return [type("O", (), {"text": "hello everyone and good afternoon"})() for _ in texts]

    trace = run_text_segment(Retranslating(), SEG, TextRunSettings("wait-2", "aggressive", "fast", "accurate"))
    assert trace.hypothesis == "hello everyone and good afternoon"
    assert trace.outputs[-2] == "hello to everyone and good afternoon"
    m = summarize([trace], "en")
    assert m["normalized_erasure"] > 0


def test_tentative_words_flicker_is_measured() -> None:
    # 'balanced' shows 2 tentative words before wait-3 commits any: the first partial appears
    # after one source word; the fake engine never revises them, so there is no erasure
    trace = run_text_segment(FakeTranslator(), SEG, TextRunSettings("wait-3", "balanced"))
    assert trace.outputs[:2] == ["hello", "hello to"]
    assert trace.delays[0] == 3.0
    assert summarize([trace], "en")["normalized_erasure"] == 0.0


def test_summary_has_every_key_and_null_where_not_applicable() -> None:
    traces = run_text(FakeTranslator(), [SEG], TextRunSettings("wait-2", "aggressive"))
    m = summarize(traces, "en")
    assert set(METRIC_KEYS) <= set(m)
    assert m["comet"] is None and m["wer"] is None and m["al_ca"] is None and m["check_pass_rate"] is None
    delays = traces[0].delays
    assert m["al"] == pytest.approx(average_lagging(delays, 6, len(SEG.reference.split())), abs=1e-3)
    assert 0 < m["chrf"] <= 100 and m["n_segments"] == 1 and m["n_errors"] == 0


def test_checks_feed_the_pass_rate() -> None:
    segs = [
        EvalSegment("c:0", "el gato come", "the cat eats", "es", "en", expect={"include": ["cat"]}),
        EvalSegment("c:1", "la casa es grande", "the house is big", "es", "en", expect={"include": ["dog"]}),
    ]
    traces = run_text(FakeTranslator(), segs, TextRunSettings("wait-1"))
    assert summarize(traces, "en")["check_pass_rate"] == 0.5
    assert not traces[1].checks[0].passed and "dog" in traces[1].checks[0].detail


def test_unavailable_backend_marks_the_rest_of_the_run_as_errors() -> None:
    from rtt.errors import BackendUnavailable

    class Broken(FakeTranslator):
        def simultaneous(self, *a, **kw):  # type: ignore[no-untyped-def]
            raise BackendUnavailable("apertium missing")

    traces = run_text(Broken(), [SEG, SEG], TextRunSettings())
    assert [t.error for t in traces] == ["BACKEND_UNAVAILABLE: apertium missing"] * 2
    m = summarize(traces, "en")
    assert m["n_errors"] == 2 and m["chrf"] is None and m["al"] is None


def test_run_record_shape() -> None:
    traces = run_text(FakeTranslator(), [SEG], TextRunSettings("wait-2"))
    rec = run_record(traces, suite="s", domain="d", pair="es-en", modality="text", policy="wait-2",
                     tier="fast", final_tier=None)
    assert rec["suite"] == "s" and rec["pair"] == "es-en" and rec["segments"][0]["hypothesis"]
    assert "version:2.5.1" in rec["signatures"]["chrf_signature"]


def test_policy_label_spells_out_stabilization() -> None:
    assert policy_label(None, None, "wait-k", "balanced") == "wait-3+2t"
    assert policy_label("wait-5", "aggressive", "wait-k", "balanced") == "wait-5"
    assert policy_label("la-2", None, "wait-k", "balanced") == "local-agreement-2"


def test_file_segments_check_line_counts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from rtt.errors import InvalidInput

    (tmp_path / "s.txt").write_text("uno\n\ndos\n", encoding="utf-8")
    (tmp_path / "r.txt").write_text("one\n\ntwo\n", encoding="utf-8")
    (tmp_path / "bad.txt").write_text("one\n", encoding="utf-8")
    segs = file_segments(tmp_path / "s.txt", tmp_path / "r.txt", "es", "en")
    assert [(s.source, s.reference) for s in segs] == [("uno", "one"), ("dos", "two")]
    with pytest.raises(InvalidInput):
        file_segments(tmp_path / "s.txt", tmp_path / "bad.txt", "es", "en")


def test_translator_that_retranslates_finals_itself_is_not_asked_twice() -> None:
    seen: dict[str, object] = {}

    class Native(FakeTranslator):
        def simultaneous(self, source_lang, target_lang, *, policy=None, stabilization=None, tier=None,  # type: ignore[no-untyped-def]
                         final_tier=None, **kw):
            seen["final_tier"] = final_tier
            return super().simultaneous(source_lang, target_lang, policy=policy, stabilization=stabilization)

        def translate(self, *a, **kw):  # type: ignore[no-untyped-def]
            raise AssertionError("the runner re-translated a final the translator already handles")

    trace = run_text_segment(Native(), SEG, TextRunSettings("wait-2", "aggressive", "fast", "accurate"))
    assert seen["final_tier"] == "accurate" and trace.hypothesis
