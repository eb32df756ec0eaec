"""Speech runs: the ASR→MT cascade on a scripted ASR fixture (plumbing), then one real FLEURS
clip through Whisper + the fast tier."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rtt.eval.cascade import SpeechCascade
from rtt.eval.segments import EvalSegment
from rtt.eval.speech_runner import run_speech_segment
from rtt.eval.summary import summarize
from tests.eval_fixtures import FakeTranslator, ScriptedAsr

TRANSCRIPT = "hola a todos y buenas tardes"
SEG = EvalSegment("sp:0", TRANSCRIPT, "hello everyone and good afternoon", "es", "en",
                  audio=Path("unused.ogg"), transcript=TRANSCRIPT)
AUDIO = np.zeros(16000 * 4, dtype=np.float32)  # 4 s: the fixture hears 2 words/s


def cascade(step_ms: int = 500) -> SpeechCascade:
    return SpeechCascade(ScriptedAsr(TRANSCRIPT), FakeTranslator(), "es", "en", policy="wait-1",
                         stabilization="aggressive", step_ms=step_ms)


@pytest.mark.parametrize("realtime", [True, False])
def test_cascade_commits_words_as_audio_arrives(realtime: bool) -> None:
    trace = run_speech_segment(cascade(), SEG, AUDIO, realtime=realtime)
    assert trace.error is None
    assert trace.transcript_hyp == TRANSCRIPT
    assert trace.hypothesis == "hello to everyone and good afternoon"
    assert trace.source_length == pytest.approx(4000.0)
    # delays are ms of audio read: non-decreasing, within the clip, and the first words come
    # before the end of the audio (LocalAgreement-2 commits once two partials agree)
    assert trace.delays == sorted(trace.delays) and trace.delays[-1] <= 4000.0
    assert trace.delays[0] < 4000.0
    assert trace.elapsed is not None and len(trace.elapsed) == len(trace.delays)
    assert all(e >= d for e, d in zip(trace.elapsed, trace.delays, strict=True))
    assert trace.first_latency_ms is not None and trace.final_latency_ms is not None


def test_speech_summary_has_wer_and_ms_latency() -> None:
    trace = run_speech_segment(cascade(), SEG, AUDIO)
    bad = EvalSegment("sp:1", TRANSCRIPT, SEG.reference, "es", "en", audio=Path("x"), transcript="hola a todas")
    trace2 = run_speech_segment(cascade(), bad, AUDIO)
    m = summarize([trace, trace2], "en", speech=True)
    assert m["wer"] is not None and m["wer"] > 0
    assert m["al"] is not None and m["al"] > 100  # milliseconds, not words
    assert m["al_ca"] is not None and m["al_ca"] >= m["al"]


def test_larger_steps_decode_less_often() -> None:
    fine, coarse = cascade(250), cascade(1000)
    run_speech_segment(fine, SEG, AUDIO, realtime=False)
    run_speech_segment(coarse, SEG, AUDIO, realtime=False)
    assert fine.asr.decodes > coarse.asr.decodes


@pytest.mark.models
@pytest.mark.slow
def test_real_fleurs_clip_through_whisper_and_fast_tier(translator, shared_data: Path) -> None:  # type: ignore[no-untyped-def]
    from rtt.datasets import fleurs_clips, flores_line
    from rtt.eval.cascade import asr_config_from, load_asr
    from rtt.eval.segments import load_clip
    from rtt.models.store import ModelStore

    if not ModelStore().is_ready(translator.config.asr.model):
        pytest.skip("Whisper model not assembled")
    clip = min(fleurs_clips("es"), key=lambda c: c.audio.stat().st_size)
    seg = EvalSegment(clip.clip_id, flores_line("es", clip.flores_line), flores_line("en", clip.flores_line),
                      "es", "en", audio=clip.audio, transcript=clip.transcript)
    asr = load_asr(translator.config)
    cas = SpeechCascade(asr, translator, "es", "en", policy="wait-3", stabilization="aggressive",
                        asr_config=asr_config_from(translator.config), step_ms=1000)
    trace = run_speech_segment(cas, seg, load_clip(clip.audio), realtime=False)
    m = summarize([trace], "en", speech=True)
    assert trace.error is None and len(trace.hypothesis.split()) >= 5
    assert m["wer"] is not None and m["wer"] < 0.6  # Whisper base on clean read Spanish
    assert 0 < m["al"] <= trace.source_length


def test_session_runner_drives_the_live_pipeline() -> None:
    """The same clip through rtt.pipeline.Session (energy VAD on a tone, scripted ASR, dictionary MT)."""
    import asyncio

    from rtt.eval.session_runner import run_session_segment
    from tests.speech_fixtures import ScriptedAsr as SessionAsr
    from tests.speech_fixtures import plumbing_components, silence, tone

    components = plumbing_components(asr=SessionAsr(TRANSCRIPT), translator=FakeTranslator(), min_silence_ms=300)
    audio = np.concatenate([silence(0.3), tone(2.0), silence(0.8)])
    trace = asyncio.run(run_session_segment(components, SEG, audio, policy="wait-1", stabilization="aggressive",
                                            realtime=False))
    assert trace.error is None
    assert trace.transcript_hyp and trace.transcript_hyp.split() == TRANSCRIPT.split()[: len(trace.transcript_hyp.split())]
    assert trace.hypothesis.startswith("hello")
    assert trace.delays and trace.delays == sorted(trace.delays) and trace.delays[-1] <= trace.source_length
    assert trace.final_latency_ms is not None and trace.final_latency_ms >= 0
    assert trace.outputs[-1] == trace.hypothesis
    m = summarize([trace], "en", speech=True)
    assert m["wer"] is not None and m["al"] is not None
