import numpy as np

from rtt.asr.agreement import LocalAgreement
from rtt.asr.normalize import drop_repetition, normalize_text, normalize_word
from rtt.asr.streaming import StreamingAsrConfig, UtteranceDecoder
from tests.speech_fixtures import ScriptedAsr


def test_local_agreement_2_commits_the_common_prefix_only() -> None:
    la = LocalAgreement(2)
    assert la.update(["the", "cat"]) == []
    assert la.update(["the", "cat", "sat", "on"]) == ["the", "cat"]
    assert la.tentative() == ["sat", "on"]
    # a revision of the tentative tail is fine; committed words are never touched again
    assert la.update(["the", "cat", "sits", "on", "the"]) == []
    assert la.update(["the", "cat", "sits", "on", "the", "mat"]) == ["sits", "on", "the"]
    assert la.committed == ["the", "cat", "sits", "on", "the"]


def test_committed_words_never_change() -> None:
    hyps = ["a", "a b", "a c", "a c d", "a c d e", "x y z", "a c d e f"]
    la = LocalAgreement(2)
    history: list[list[str]] = []
    for h in hyps:
        la.update(h.split())
        history.append(list(la.committed))
    for before, after in zip(history, history[1:], strict=False):
        assert after[: len(before)] == before


def test_agreement_ignores_case_and_punctuation_keeps_newest_spelling() -> None:
    la = LocalAgreement(2)
    la.update(["San", "pedro"])
    assert la.update(["San", "Pedro,", "que"]) == ["San", "Pedro,"]


def test_local_agreement_3_needs_three_votes() -> None:
    la = LocalAgreement(3)
    assert la.update(["a", "b"]) == []
    assert la.update(["a", "b"]) == []
    assert la.update(["a", "c"]) == ["a"]


def test_normalization() -> None:
    assert normalize_word("¿Pedro?") == "pedro"
    assert normalize_text("Fue tanta, la  Plaza de San Pedro.") == "fue tanta la plaza de san pedro"


def test_drop_repetition_keeps_the_first_copy() -> None:
    assert drop_repetition("Fue tan Fue tan Fue") == "Fue tan"
    assert drop_repetition("uno dos tres cuatro, uno dos tres cuatro") == "uno dos tres cuatro,"
    assert drop_repetition("el de la de la casa") == "el de la de la casa"
    assert drop_repetition("no, no, es así") == "no, no, es así"
    looped = "Jean a perdu le contrôle de sa voiture peu après le départ. Jean a perdu le contrôle de"
    assert drop_repetition(looped) == "Jean a perdu le contrôle de sa voiture peu après le départ."
    legit = "the cat sat on the mat and the dog sat on the rug"
    assert drop_repetition(legit) == legit


def test_utterance_decoder_forces_committed_prefix_and_reuses_the_last_partial() -> None:
    asr = ScriptedAsr("uno dos tres cuatro cinco seis siete ocho nueve diez")
    dec = UtteranceDecoder(asr, StreamingAsrConfig(), language="es")
    audio = np.zeros(16000 * 3, dtype=np.float32)  # 0.25 s per word
    p = dec.partial(audio[:12000])  # 0.75 s: shown, but too early to vote
    assert p.new_committed == [] and p.tentative == "uno dos tres"
    p = dec.partial(audio[:16000])  # 1.0 s: the first commit waits for FIRST_COMMIT_AUDIO_S
    assert p.new_committed == [] and p.tentative == "uno dos tres cuatro"
    p = dec.partial(audio[:24000])  # 6 words, first vote
    assert p.new_committed == []
    p = dec.partial(audio[:28000])  # 7 words: the 6 agreed ones are committed
    assert p.new_committed == "uno dos tres cuatro cinco seis".split() and p.tentative == "siete"
    p = dec.partial(audio[:32000])
    assert asr.calls[-1][1].prefix == "uno dos tres cuatro cinco seis"
    assert p.new_committed == ["siete"]
    assert dec.can_reuse(32000)
    final = dec.final(audio[:32000])
    assert final.reused_partial and final.text == "uno dos tres cuatro cinco seis siete ocho"
    assert final.new_words == ["ocho"]  # only what partials had not committed yet
    assert not final.replaced
    calls = len(asr.calls)
    # audio beyond what the last partial saw needs a new decode
    dec2 = UtteranceDecoder(asr, StreamingAsrConfig(), language="es")
    dec2.partial(audio[:16000])
    f2 = dec2.final(audio[:40000])
    assert not f2.reused_partial and len(asr.calls) == calls + 2
    assert f2.text == "uno dos tres cuatro cinco seis siete ocho nueve diez"


class DerailingAsr(ScriptedAsr):
    """Forced to continue a prefix that is not in the script, it stops (as Whisper does)."""

    def decode(self, audio, options):  # type: ignore[no-untyped-def]
        result = super().decode(audio, options)
        prefix = options.prefix.split()
        if prefix and prefix != self.words[: len(prefix)]:
            result.text = " ".join(prefix)
        return result


def test_a_wrong_committed_word_does_not_stop_recognition() -> None:
    from rtt.asr.streaming import words_after

    assert words_after(["the"], "styles in the west".split()) == ["west"]
    assert words_after(["uh"], ["styles", "in"]) == ["styles", "in"]
    asr = DerailingAsr("styles in west could lag behind by years")
    dec = UtteranceDecoder(asr, StreamingAsrConfig(), language="en")
    dec.agreement.committed = ["the"]  # two early partials agreed on a mis-heard word
    audio = np.zeros(16000 * 3, dtype=np.float32)
    p = dec.partial(audio[:16000])
    assert p.committed == "the"
    dec.partial(audio[:28000])  # no growth over 0.75 s: still trusting the prefix
    assert dec.derailments == 0
    final = dec.final(audio)
    assert dec.derailments == 1  # 2 s without growth
    assert final.text == "the styles in west could lag behind by years"
    assert final.new_words == "styles in west could lag behind by years".split()


def test_language_detected_then_locked() -> None:
    asr = ScriptedAsr(language="fr")
    dec = UtteranceDecoder(asr, StreamingAsrConfig(), language=None)
    dec.partial(np.zeros(16000, dtype=np.float32))
    assert asr.calls[-1][1].language is None
    assert dec.language == "fr"
    dec.partial(np.zeros(24000, dtype=np.float32))
    assert asr.calls[-1][1].language == "fr"  # 0.99 >= lock probability


GERMAN = "Für die besten Aussichten auf Hongkong sollten Sie die Insel verlassen"


class PoisonableAsr(ScriptedAsr):
    """Plumbing fixture for the failure measured against the LocalAgreement peer: in the first
    two seconds it hears English ("For the best"), then the German script; forced to continue a
    prefix that starts with "For" it loops into English and Han characters, as Whisper did."""

    def decode(self, audio, options):  # type: ignore[no-untyped-def]
        result = super().decode(audio, options)
        if options.prefix.split()[:1] == ["For"]:
            result.text = "For the best best of the best of 香港 要求 要求"
        elif len(audio) < 2 * 16000:
            result.text = " ".join("For the best of the".split()[: len(result.text.split())])
        return result


def test_a_wrong_language_first_commit_is_held_until_the_speech_agrees() -> None:
    asr = PoisonableAsr(GERMAN)
    dec = UtteranceDecoder(asr, StreamingAsrConfig(), language="de")
    audio = np.zeros(16000 * 4, dtype=np.float32)
    committed: list[str] = []
    for end in range(24000, len(audio) + 1, 4000):  # from 1.5 s, a partial every 0.25 s
        committed += dec.partial(audio[:end]).new_committed
    assert committed and committed[0] == "Für"
    assert "For" not in committed and all(c.prefix.split()[:1] != ["For"] for _, c in asr.calls)
    final = dec.final(audio)
    assert final.text == GERMAN[: len(final.text)]


def test_a_poisoned_prefix_gives_way_to_a_clean_decode_at_the_final() -> None:
    asr = PoisonableAsr(GERMAN)
    dec = UtteranceDecoder(asr, StreamingAsrConfig(), language="de")
    dec.agreement.committed = ["For"]  # a wrong early commit got through (older clients, n=1 ...)
    audio = np.zeros(16000 * 3, dtype=np.float32)  # 12 words of audio: the whole script
    final = dec.final(audio)
    assert final.replaced and final.text == GERMAN
    assert final.new_words == GERMAN.split()  # the MT translates the sentence afresh
    assert asr.calls[-1][1].prefix == ""


def test_a_repetition_loop_is_never_committed_and_tentatives_drop_repeats() -> None:
    from rtt.asr import guards

    loop = "ich gehe gehe gehe gehe nach Hause".split()
    assert guards.committable(loop, 0, "de") == 1  # stops where the loop starts (its first copy too)
    assert guards.committable("the the the the the the the the the the".split(), 0, "en") == 0
    assert guards.committable("Für die 香港 Aussicht".split(), 0, "de") == 2  # Han in a de session
    assert guards.committable("Für die besten".split(), 0, "de", avg_logprob=-1.5) == 0
    assert guards.looks_looped("x. " * 40)
    la_input = ScriptedAsr("a b c")
    dec = UtteranceDecoder(la_input, StreamingAsrConfig(), language="en")
    dec.agreement.committed = ["I"]
    dec.agreement.update(["I", "I", "went", "went"])
    assert guards.collapse_repeats(dec.agreement.tentative(), dec.agreement.committed[-1]) == ["went"]

    class LoopingAsr(ScriptedAsr):
        def decode(self, audio, options):  # type: ignore[no-untyped-def]
            result = super().decode(audio, options)
            words = result.text.split()
            result.text = " ".join(words[:2] + ["re"] * max(0, len(words) - 2))
            return result

    asr = LoopingAsr("wir haben das aktive Material gesehen und sind gegangen")
    dec = UtteranceDecoder(asr, StreamingAsrConfig(), language="de")
    audio = np.zeros(16000 * 3, dtype=np.float32)
    committed = []
    for end in range(24000, len(audio) + 1, 4000):
        p = dec.partial(audio[:end])
        committed += p.new_committed
        assert "re re" not in p.tentative
    assert "re" not in committed and committed == ["wir", "haben"]
