"""GGUF rewriting (rtt.models.gguf_file) and the Latin-vocabulary model (rtt.models.vocab_prune).

The synthetic GGUF below is a plumbing fixture: a made-up 12-token vocabulary and random bytes
for the tensors, enough to check the file format and the bookkeeping.  The tests marked
``models`` compare the real pruned Gemma file with the packaged one.
"""

from __future__ import annotations

import hashlib
import random
import zipfile
from pathlib import Path

import pytest

from rtt.errors import ModelMissing
from rtt.models.catalog import ModelFile, PackagedModel, PartSource
from rtt.models.gguf_file import (
    T_ARRAY,
    T_FLOAT32,
    T_INT32,
    T_STRING,
    T_UINT32,
    GgufError,
    GgufFile,
    Tensor,
    Value,
    read_gguf,
    write_gguf,
)
from rtt.models.store import ModelStore
from rtt.models.vocab_prune import BYTE, CONTROL, NORMAL, keep_for_chars, latin_chars, prune_vocab

PIECES = ["<pad>", "<eos>", "<bos>", "<unk>", "<unused0>", "<start_of_turn>", "<0x41>",
          "▁the", "▁Haus", "▁Erdoğan", "▁город", "日本"]
TYPES = [CONTROL, CONTROL, CONTROL, 2, CONTROL, CONTROL, BYTE, NORMAL, NORMAL, NORMAL, NORMAL, NORMAL]
Q8_0 = 8  # 32 values in 34 bytes


def tiny_gguf(path: Path) -> GgufFile:
    rng = random.Random(0)
    n = len(PIECES)
    gguf = GgufFile(3, {
        "general.architecture": Value(T_STRING, "gemma3"),
        "general.name": Value(T_STRING, "tiny"),
        "tokenizer.ggml.model": Value(T_STRING, "llama"),
        "tokenizer.ggml.tokens": Value(T_ARRAY, list(PIECES), T_STRING),
        "tokenizer.ggml.scores": Value(T_ARRAY, [float(-i) for i in range(n)], T_FLOAT32),
        "tokenizer.ggml.token_type": Value(T_ARRAY, list(TYPES), T_INT32),
        "tokenizer.ggml.bos_token_id": Value(T_UINT32, 2),
        "tokenizer.ggml.eos_token_id": Value(T_UINT32, 1),
        "tokenizer.ggml.unknown_token_id": Value(T_UINT32, 3),
    }, [
        Tensor("token_embd.weight", (64, n), Q8_0, bytes(rng.randrange(256) for _ in range(68 * n))),
        Tensor("blk.0.attn_norm.weight", (64,), 0, bytes(rng.randrange(256) for _ in range(256))),
    ])
    write_gguf(gguf, path)
    return gguf


def test_a_gguf_file_reads_back_as_written(tmp_path: Path) -> None:
    written = tiny_gguf(tmp_path / "a.gguf")
    back = read_gguf(tmp_path / "a.gguf")
    assert back.metadata == written.metadata and back.tensors == written.tensors
    write_gguf(back, tmp_path / "b.gguf")
    assert (tmp_path / "b.gguf").read_bytes() == (tmp_path / "a.gguf").read_bytes()


def test_pruning_keeps_latin_pieces_and_specials_and_remaps_ids(tmp_path: Path) -> None:
    before = tiny_gguf(tmp_path / "a.gguf")
    counts = prune_vocab(tmp_path / "a.gguf", tmp_path / "p.gguf", keep_for_chars(latin_chars()))
    after = read_gguf(tmp_path / "p.gguf")
    pieces = after.metadata["tokenizer.ggml.tokens"].value
    # Cyrillic and CJK pieces and the reserved slot go; bytes, specials and Latin words stay
    assert pieces == ["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<0x41>", "▁the", "▁Haus", "▁Erdoğan"]
    assert counts == {"tokens_before": 12, "tokens_after": 9}
    old = [PIECES.index(p) for p in pieces]
    assert after.metadata["tokenizer.ggml.scores"].value == [float(-i) for i in old]
    assert after.metadata["tokenizer.ggml.token_type"].value == [TYPES[i] for i in old]
    assert after.metadata["tokenizer.ggml.bos_token_id"].value == 2
    # each kept row of the embedding is the original row of that token, byte for byte
    emb, emb0 = after.tensor("token_embd.weight"), before.tensor("token_embd.weight")
    assert emb is not None and emb0 is not None and emb.dims == (64, 9)
    for new, i in enumerate(old):
        assert emb.data[new * 68:(new + 1) * 68] == emb0.data[i * 68:(i + 1) * 68]
    assert after.tensor("blk.0.attn_norm.weight") == before.tensor("blk.0.attn_norm.weight")


def test_a_special_token_that_would_be_pruned_is_refused(tmp_path: Path) -> None:
    gguf = tiny_gguf(tmp_path / "a.gguf")
    gguf.metadata["tokenizer.ggml.eos_token_id"] = Value(T_UINT32, 10)  # "▁город"
    write_gguf(gguf, tmp_path / "a.gguf")
    with pytest.raises(GgufError, match="eos_token_id"):
        prune_vocab(tmp_path / "a.gguf", tmp_path / "p.gguf", keep_for_chars(latin_chars()))


def _derived_store(tmp_path: Path, pin: str | None) -> tuple[ModelStore, Path]:
    tiny_gguf(tmp_path / "base.gguf")
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    with zipfile.ZipFile(wheels / "tiny_model-1.0.0-py3-none-any.whl", "w") as zf:
        zf.write(tmp_path / "base.gguf", "tiny_model/data/model.gguf")
    base = PackagedModel("tiny", "mt", "plumbing fixture", "MIT",
                         (ModelFile("model.gguf", (PartSource("tiny-model", "tiny_model/data/model.gguf"),)),),
                         {"tiny-model": "1.0.0"})
    derived = PackagedModel("tiny-latin", "mt", "plumbing fixture, pruned", "MIT", (ModelFile("model.gguf", (), pin),),
                            derived_from="tiny", derivation="vocab-latin")
    return ModelStore(tmp_path / "store", {"tiny": base, "tiny-latin": derived}), wheels


def test_the_store_derives_a_model_from_its_base(tmp_path: Path) -> None:
    tiny_gguf(tmp_path / "x.gguf")
    prune_vocab(tmp_path / "x.gguf", tmp_path / "want.gguf", keep_for_chars(latin_chars()))
    pin = hashlib.sha256((tmp_path / "want.gguf").read_bytes()).hexdigest()
    store, wheels = _derived_store(tmp_path, pin)
    path = store.pull("tiny-latin", wheel_dir=wheels, allow_download=False)
    assert store.is_ready("tiny")  # the base was assembled first
    assert (path / "model.gguf").read_bytes() == (tmp_path / "want.gguf").read_bytes()
    assert store.verify("tiny-latin").verified is True
    assert store.pull("tiny-latin", wheel_dir=wheels, allow_download=False) == path  # idempotent


def test_a_derived_file_with_another_checksum_is_refused(tmp_path: Path) -> None:
    store, wheels = _derived_store(tmp_path, "0" * 64)
    with pytest.raises(ModelMissing, match="sha256"):
        store.pull("tiny-latin", wheel_dir=wheels, allow_download=False)
    assert not store.is_ready("tiny-latin")
    with pytest.raises(ModelMissing, match="computed from tiny"):
        store.path("tiny-latin")


# -- the real files -----------------------------------------------------------------------------

TEXTS = [
    "On Monday, scientists from the Stanford University School of Medicine announced a new tool.",
    "El presidente turco Recep Tayyip Erdoğan habló por teléfono con Donald Trump el lunes.",
    "Die Straßenbahn fährt um 7:45 Uhr ab – pünktlich, wie immer… „Wirklich?“",
    "L'œuvre de Dvořák fut jouée à Łódź en 1890 ; c'était « magnifique » !",
    "Il prezzo è di 12,50 € (IVA inclusa) — più conveniente del 20 %.",
]


def _stores() -> tuple[Path, Path]:
    store = ModelStore()
    if not (store.is_ready("gemma3-270m-q4km") and store.is_ready("gemma3-270m-q4km-latin")):
        pytest.skip("Gemma models not in the store (rtt models pull)")
    return store.path("gemma3-270m-q4km") / "model.gguf", store.path("gemma3-270m-q4km-latin") / "model.gguf"


@pytest.mark.models
def test_latin_text_tokenizes_into_the_same_pieces() -> None:
    from llama_cpp import Llama

    full_path, latin_path = _stores()
    full = Llama(str(full_path), vocab_only=True, verbose=False)
    latin = Llama(str(latin_path), vocab_only=True, verbose=False)

    def pieces(llm: Llama, text: str) -> list[bytes]:
        return [llm.detokenize([t]) for t in llm.tokenize(text.encode(), add_bos=True)]

    for text in TEXTS:
        assert pieces(latin, text) == pieces(full, text), text
    # other scripts still go through (byte pieces), just less compactly
    other = "Москва — столица России."
    ids = latin.tokenize(other.encode(), add_bos=False)
    assert latin.detokenize(ids).decode() == other
    assert len(ids) > len(full.tokenize(other.encode(), add_bos=False))
    assert latin.n_vocab() < 0.7 * full.n_vocab()


@pytest.mark.models
def test_the_latin_model_translates_exactly_like_the_full_one() -> None:
    from rtt.mt.base import MtRequest
    from rtt.mt.llama_engine import LlamaEngine

    full_path, latin_path = _stores()
    requests = [MtRequest(TEXTS[1], "es", "en"), MtRequest(TEXTS[2], "de", "en"), MtRequest(TEXTS[0], "en", "fr")]
    latin_languages = ["en", "es", "de", "fr"]
    engines = [LlamaEngine(full_path, prompt="fewshot", threads=2),
               LlamaEngine(latin_path, prompt="fewshot", threads=2, languages=latin_languages)]
    try:
        outputs = [[e.continue_prefix(r).text for r in requests] for e in engines]
        # the pruned model declares what it is for, so a tier falls through to the full one
        assert engines[1].supports("de", "fr") and not engines[1].supports("ru", "en")
        assert engines[0].supports("ru", "en")
    finally:
        for e in engines:
            e.close()
    assert all(outputs[0]) and outputs[1] == outputs[0]


def test_the_default_config_routes_other_scripts_to_the_full_vocabulary() -> None:
    from rtt.config import load_config

    cfg = load_config()
    fast = cfg.mt.tiers["fast"]["*"]
    engines = [cfg.mt.engines[name] for name in fast]
    assert engines[0].model == "gemma3-270m-q4km-latin" and {"en", "es", "de", "fr"} <= set(engines[0].languages)
    assert engines[-1].model == "gemma3-270m-q4km" and not engines[-1].languages
