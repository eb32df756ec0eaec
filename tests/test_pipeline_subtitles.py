from rtt.pipeline.events import FinalAsr, FinalTranslation, WordTiming
from rtt.subtitles import Cue, cues_from_events, format_srt, format_webvtt


def test_srt_and_webvtt_timestamps_and_numbering() -> None:
    cues = [Cue(0, 1500, "Hello there."), Cue(3_723_004, 3_725_000, "Later.")]
    srt = format_srt(cues)
    assert srt.startswith("1\n00:00:00,000 --> 00:00:01,500\nHello there.\n")
    assert "2\n01:02:03,004 --> 01:02:05,000\nLater.\n" in srt
    vtt = format_webvtt(cues)
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nHello there.\n")


def test_long_cues_wrap_to_two_lines() -> None:
    text = "This is a rather long subtitle line that needs two lines"
    srt = format_srt([Cue(0, 1000, text)])
    lines = srt.splitlines()[2:4]
    assert len(lines) == 2 and all(len(line) <= 42 for line in lines)
    assert " ".join(lines) == text


def test_cues_from_session_events() -> None:
    words = tuple(WordTiming(w, 1000 + 400 * i, 1000 + 400 * i + 350) for i, w in enumerate(
        ["la", "gente", "se", "concentró", "en", "la", "plaza", "de", "San", "Pedro", "para", "el", "funeral", "del", "papa", "ayer", "por", "la", "tarde"]))
    asr = FinalAsr(0, " ".join(w.text for w in words), "es", 900.0, 1000 + 400 * len(words), 9000.0, words)
    mt = FinalTranslation(0, "People gathered in Saint Peter's Square for the pope's funeral yesterday afternoon",
                          asr.text, "es", "en", 9500.0)
    transcript = cues_from_events([asr, mt], "transcript", max_chars=42)
    assert len(transcript) >= 2
    assert transcript[0].start_ms == 1000 and all(len(c.text) <= 42 for c in transcript)
    assert " ".join(c.text for c in transcript) == asr.text
    assert all(a.end_ms <= b.start_ms for a, b in zip(transcript, transcript[1:], strict=False))
    translation = cues_from_events([asr, mt], "translation", max_chars=42)
    assert translation[0].start_ms == 900.0 and abs(translation[-1].end_ms - asr.end_ms) < 1e-6
    assert " ".join(c.text for c in translation) == mt.text


def test_text_only_utterances_have_no_cue() -> None:
    assert cues_from_events([FinalTranslation(0, "Hi", "Hola", "es", "en", 1.0)]) == []


def test_direct_mode_translations_are_placed_by_their_audio_span() -> None:
    ft = FinalTranslation(0, "The accident happened in the mountains.", "", "fr", "en", 5000.0,
                          audio_start_ms=1200.0, audio_end_ms=4200.0)
    cues = cues_from_events([ft])
    assert len(cues) == 1 and cues[0].start_ms == 1200.0 and cues[0].end_ms == 4200.0


def test_cues_from_spans_are_ordered_and_stay_inside_each_span() -> None:
    from rtt.subtitles import cues_from_spans

    long = "a sentence long enough that it has to be cut into more than one cue of two lines each"
    cues = cues_from_spans([(5000.0, 9000.0, long), (0.0, 1200.0, "first"), (9500.0, 9600.0, " ")], max_chars=42)
    assert cues[0] == Cue(0.0, 1200.0, "first")
    rest = cues[1:]
    assert len(rest) >= 2 and rest[0].start_ms == 5000.0 and abs(rest[-1].end_ms - 9000.0) < 1e-6
    assert " ".join(c.text for c in rest) == long  # the blank span makes no cue
