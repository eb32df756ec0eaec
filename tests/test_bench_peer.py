"""The peer benchmark's measuring code (rtt/bench/peer.py), on hand-made runs: word latencies are
measured against the offline decode's word ends, on each stream's clock, for matching words only."""

from __future__ import annotations

import pytest

from rtt.bench.peer import ClipRun, ShownWord, word_latencies


def test_word_latencies_count_matching_words_from_their_end_in_the_audio() -> None:
    words = [ShownWord("Hola,", 900.0, 600.0, False), ShownWord("amiga", 1500.0, 1100.0, False),
             ShownWord("mía.", 2600.0, 2600.0, True)]
    # the stream pushed audio 50 ms after it was spoken
    run = ClipRun("x", "clip", "Hola, amiga mía.", "Hola, amiga mía.", words, lambda ms: ms + 50.0)
    reference = [("hola", 500.0), ("amigo", 1000.0), ("mía", 1800.0)]
    lat = word_latencies(run, reference)
    # "amiga" does not match "amigo": not counted
    assert lat["committed"] == pytest.approx([900.0 - 550.0, 2600.0 - 1850.0])
    assert lat["displayed"] == pytest.approx([600.0 - 550.0, 2600.0 - 1850.0])


def test_the_peers_local_agreement_loads_without_its_package_init() -> None:
    import importlib.util
    import sys

    if importlib.util.find_spec("whisperlivekit") is None:
        pytest.skip("the peer is an optional benchmark extra (make peer-bench-deps)")
    from rtt.bench.peer import peer_modules

    online_asr, timed = peer_modules()
    assert hasattr(online_asr, "OnlineASRProcessor") and hasattr(timed, "ASRToken")
    assert "whisperlivekit.core" not in sys.modules  # its torch backends stayed out
