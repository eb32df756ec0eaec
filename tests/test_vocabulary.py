"""Recognition vocabulary (rtt/asr/vocabulary.py): its bounds, its wire forms and their structured
errors; the pipeline's use is in tests/test_refinement.py, what it does to recognition (real
Whisper on Piper speech) in tests/test_asr_whisper.py and reports/speech/vocabulary.md."""

from __future__ import annotations

import pytest

from rtt.asr.vocabulary import MAX_TERMS, check_vocabulary, vocabulary_prompt, with_vocabulary
from rtt.client import RttApiError, RttClient
from rtt.errors import InvalidInput
from rtt.pipeline.options import SessionOptions
from tests.serve_fixtures import running_server


def test_terms_are_cleaned_and_bounded() -> None:
    assert check_vocabulary(["  Xarelto ", "xarelto", "Ray  Serve"]) == ("Xarelto", "Ray Serve")
    assert check_vocabulary(None) == ()
    for bad, code in ((["x"] * 0 + [f"t{i}" for i in range(MAX_TERMS + 1)], "VOCABULARY_TOO_LARGE"),
                      (["a" * 65], "INVALID_VOCABULARY"), ([""], "INVALID_VOCABULARY"),
                      ("Xarelto", "INVALID_VOCABULARY"), ([f"{'w' * 60}{i}" for i in range(12)], "VOCABULARY_TOO_LARGE")):
        with pytest.raises(InvalidInput) as err:
            check_vocabulary(bad)
        assert err.value.code == code
    assert SessionOptions(source_lang="es", vocabulary=["Oaxaca"]).validate().vocabulary == ("Oaxaca",)


def test_the_prompt_puts_terms_before_the_context() -> None:
    assert vocabulary_prompt(["Xarelto", "Oaxaca", "Xarelto"]) == "Glossary: Xarelto, Oaxaca."
    assert vocabulary_prompt([]) == ""
    assert with_vocabulary("the previous sentence", "Glossary: Xarelto.") == "Glossary: Xarelto. the previous sentence"
    assert with_vocabulary("context", "") == "context"


async def test_hello_takes_a_vocabulary_and_refuses_an_oversized_one() -> None:
    with running_server() as srv:
        async with RttClient(srv.base_url) as client:
            ok = await client.realtime(source_lang="es", target_lang="en", vocabulary=["Oaxaca"]).connect()
            assert ok.created.config.vocabulary == ["Oaxaca"]
            await ok.close()
            with pytest.raises(RttApiError) as err:
                await client.realtime(source_lang="es", target_lang="en",
                                      vocabulary=[f"term{i}" for i in range(MAX_TERMS + 5)]).connect()
            assert err.value.code == "VOCABULARY_TOO_LARGE"


def test_grpc_hello_carries_the_vocabulary() -> None:
    from serve.grpc_gen import realtime_pb2 as pb
    from serve.wire.proto import hello_from_proto

    hello = hello_from_proto(pb.Hello(target_lang="en", vocabulary=["Xarelto", "Oaxaca"]), None)
    assert hello.vocabulary == ["Xarelto", "Oaxaca"]
    assert hello_from_proto(pb.Hello(target_lang="en"), None).vocabulary is None
