"""The llama.cpp engine with the real packaged Qwen 0.5B (shared, loaded once)."""

from __future__ import annotations

import threading
import time

import pytest

from rtt.mt.base import MtRequest, MtResult
from rtt.mt.repetition import find_loop

pytestmark = pytest.mark.models


def test_full_sentence_translation_is_english(llm_engine) -> None:  # type: ignore[no-untyped-def]
    res = llm_engine.translate_batch([MtRequest("Buenos días a todos.", "es", "en")])[0]
    words = res.text.lower()
    assert any(greeting in words for greeting in ("good morning", "good day", "hello")), res.text
    assert res.complete and res.cost.generated_tokens > 0


def test_prefix_is_continued_and_word_budget_respected(llm_engine) -> None:  # type: ignore[no-untyped-def]
    req = MtRequest("El gato negro duerme en la casa", "es", "en", target_prefix="The black", source_complete=False)
    res = llm_engine.continue_prefix(req, max_new_words=1)
    assert res.text.startswith("The black ")
    assert len(res.text.split()) == 3
    assert not res.complete


def test_second_call_reuses_the_cache(llm_engine) -> None:  # type: ignore[no-untyped-def]
    req = MtRequest("La reunión empieza a las nueve", "es", "en", source_complete=False)
    llm_engine.continue_prefix(req, 1)
    grown = MtRequest("La reunión empieza a las nueve y", "es", "en", target_prefix="The", source_complete=False)
    res = llm_engine.continue_prefix(grown, 1)
    # everything up to the grown source is already in the KV cache
    assert res.cost.cached_tokens >= res.cost.prompt_tokens - 12


def test_repetition_guard() -> None:
    words = "we went to the the the the".split()
    assert find_loop(words) == 5
    assert find_loop("a b c a b c a b c".split()) == 3
    assert find_loop("a perfectly normal sentence".split()) is None


def test_background_request_pauses_between_tokens_and_lets_live_work_use_the_engine(llm_engine) -> None:  # type: ignore[no-untyped-def]
    # The refinement pass: while a background translation is paused mid-sentence, a live request
    # on the same engine must run (no deadlock on the engine lock), and the background one must
    # then finish correctly although the live one replaced the cache contents.
    pauses: list[int] = []
    release = threading.Event()

    def pause() -> None:
        pauses.append(1)
        if len(pauses) == 4:
            release.wait(60)

    background = MtRequest("El gato negro duerme en la casa de mi abuela.", "es", "en", pause=pause)
    result: list[MtResult] = []
    worker = threading.Thread(target=lambda: result.append(llm_engine.continue_prefix(background)))
    worker.start()
    deadline = time.monotonic() + 60
    while len(pauses) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(pauses) == 4
    live = llm_engine.continue_prefix(MtRequest("Buenos días a todos.", "es", "en"))
    release.set()
    worker.join(60)
    assert any(g in live.text.lower() for g in ("good morning", "good day", "hello")), live.text
    assert "cat" in result[0].text.lower() and "house" in result[0].text.lower(), result[0].text
    assert len(pauses) > result[0].cost.generated_tokens  # prompt chunks, then every token
    foreground = llm_engine.continue_prefix(MtRequest(background.text, "es", "en"))
    assert foreground.text.split()[:4] == result[0].text.split()[:4]
