"""The CTranslate2 Marian backend, exercised on a tiny randomly initialised Marian model built
here: a PLUMBING FIXTURE (its output is noise).  It proves that a user's converted OPUS-MT
directory loads and that prefix continuation keeps committed words; it says nothing about
quality, and no quality number is ever reported from it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rtt.mt.base import MtRequest

pytest.importorskip("ctranslate2")
spm = pytest.importorskip("sentencepiece")
transformers = pytest.importorskip("transformers")
pytest.importorskip("torch")

CORPUS = [
    "hola a todos y buenas tardes",
    "hello everyone and good afternoon",
    "gracias por venir a la reunión",
    "thank you for coming to the meeting",
] * 20


@pytest.fixture(scope="module")
def random_marian_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import ctranslate2
    from transformers import MarianConfig, MarianMTModel

    work = tmp_path_factory.mktemp("marian")
    text = work / "corpus.txt"
    text.write_text("\n".join(CORPUS))
    spm.SentencePieceTrainer.train(
        input=str(text), model_prefix=str(work / "sp"), vocab_size=40, model_type="unigram",
        bos_id=-1, eos_id=0, unk_id=1, pad_id=-1, minloglevel=2,
    )
    sp = spm.SentencePieceProcessor(model_file=str(work / "sp.model"))
    vocab = {sp.id_to_piece(i): i for i in range(sp.get_piece_size())}
    # Marian's convention: </s>=0, <unk>=1, and <pad> (the decoder start) last.
    pad = vocab["<pad>"] = len(vocab)
    hf = work / "hf"
    hf.mkdir()
    (hf / "vocab.json").write_text(json.dumps(vocab))
    for name in ("source.spm", "target.spm"):
        (hf / name).write_bytes((work / "sp.model").read_bytes())
    (hf / "tokenizer_config.json").write_text(json.dumps({"source_lang": "es", "target_lang": "en"}))
    config = MarianConfig(
        vocab_size=len(vocab), d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, max_position_embeddings=512,
        pad_token_id=pad, eos_token_id=0, decoder_start_token_id=pad, share_encoder_decoder_embeddings=True,
    )
    MarianMTModel(config).save_pretrained(hf)
    out = work / "ct2"
    ctranslate2.converters.TransformersConverter(str(hf)).convert(str(out), quantization="int8")
    for name in ("source.spm", "target.spm"):
        (out / name).write_bytes((work / "sp.model").read_bytes())
    return out


def test_loads_users_converted_directory_and_translates(random_marian_dir: Path) -> None:
    from rtt.mt.ctranslate2_engine import CTranslate2Engine

    engine = CTranslate2Engine(random_marian_dir, directions=["es-en"])
    assert engine.supports("es", "en") and not engine.supports("en", "de")
    results = engine.translate_batch([MtRequest("hola a todos", "es", "en"), MtRequest("gracias", "es", "en")])
    assert len(results) == 2 and all(isinstance(r.text, str) for r in results)
    assert all(r.cost.generated_tokens > 0 for r in results)


def test_prefix_continuation_keeps_committed_words(random_marian_dir: Path) -> None:
    from rtt.mt.ctranslate2_engine import CTranslate2Engine

    engine = CTranslate2Engine(random_marian_dir, directions=["es-en"])
    req = MtRequest("hola a todos y buenas tardes", "es", "en", target_prefix="hello everyone")
    res = engine.continue_prefix(req, max_new_words=1)
    assert res.text.split()[:2] == ["hello", "everyone"]
    assert len(res.text.split()) <= 3


def test_directory_without_model_is_a_clear_error(tmp_path: Path) -> None:
    from rtt.errors import ModelMissing
    from rtt.mt.ctranslate2_engine import CTranslate2Engine

    with pytest.raises(ModelMissing, match="not a CTranslate2 model directory"):
        CTranslate2Engine(tmp_path)
