"""ChunkedEngine: whole sentences written through the inner engine chunk by chunk."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from rtt.config import EngineConfig
from rtt.mt import registry
from rtt.mt.base import MtRequest
from rtt.mt.chunked import ChunkedEngine
from tests.fakes import DictionaryEngine

SOURCE = "uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce"
TABLE = dict(zip(SOURCE.split(), "one two three four five six seven eight nine ten eleven twelve thirteen fourteen".split(),
                 strict=True))


def test_long_sentence_is_read_in_chunks_with_the_target_lagging() -> None:
    inner = DictionaryEngine(TABLE)
    engine = ChunkedEngine(inner, chunk_words=6, lag=3)
    out = engine.translate_batch([MtRequest(SOURCE, "es", "en")])[0]
    assert out.text == "one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
    steps = [(len(r.text.split()), len(r.target_prefix.split()), r.source_complete, n) for r, n in inner.calls]
    # read 6 -> write up to 6-3+1=4; read 12 -> up to 10; read 14 (all) -> finish
    assert steps == [(6, 0, False, 4), (12, 4, False, 6), (14, 10, True, None)]
    assert out.cost.wall_ms == pytest.approx(3.0)  # every step's cost is counted


def test_partial_target_never_ends_the_sentence() -> None:
    inner = DictionaryEngine({"seis.": "six."})
    engine = ChunkedEngine(inner, chunk_words=6, lag=1)
    out = engine.continue_prefix(MtRequest("uno dos tres cuatro cinco seis. siete ocho", "es", "en"))
    second = inner.calls[1][0]
    assert second.target_prefix.split()[-1] == "six"  # the full stop of a partial step is dropped
    assert out.text.split()[-1] == "ocho"


@pytest.mark.parametrize(
    ("request_", "max_new_words"),
    [
        (MtRequest("uno dos tres", "es", "en"), None),  # not longer than one chunk
        (MtRequest(SOURCE, "es", "en", target_prefix="one two"), None),  # a policy's finishing step
        (MtRequest(SOURCE, "es", "en", source_complete=False), None),
        (MtRequest(SOURCE, "es", "en"), 2),  # a simultaneous step
    ],
)
def test_other_requests_pass_straight_through(request_: MtRequest, max_new_words: int | None) -> None:
    inner = DictionaryEngine(TABLE)
    ChunkedEngine(inner, chunk_words=6).continue_prefix(request_, max_new_words)
    assert inner.calls == [(request_, max_new_words)]


def test_config_wraps_the_engine_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_backend_engine", lambda name, cfg, store: DictionaryEngine())
    plain = registry.build_engine("x", EngineConfig(backend="llama", model="m"), store=None)  # type: ignore[arg-type]
    chunked = registry.build_engine("x", EngineConfig(backend="llama", model="m", chunk_words=6, chunk_lag=2),
                                    store=None)  # type: ignore[arg-type]
    assert isinstance(plain, DictionaryEngine)
    assert isinstance(chunked, ChunkedEngine) and (chunked.chunk_words, chunked.lag) == (6, 2)
    with pytest.raises(ValidationError):
        EngineConfig(backend="llama", chunk_words=-1)
    with pytest.raises(ValueError):
        ChunkedEngine(DictionaryEngine(), chunk_words=0)
