"""Plumbing fixture: a tiny, randomly initialised COMET checkpoint built offline.

It exists only to run the real ``comet.load_from_checkpoint`` + ``model.predict`` path of
``rtt.metrics.comet`` without a hub download.  Its scores mean nothing; no test may read them
as quality.  Layout mirrors a real COMET download::

    root/hparams.yaml
    root/checkpoints/model.ckpt
    root/encoder/            # a tiny XLM-R: config.json + tokenizer built from a local SentencePiece model
"""

from __future__ import annotations

import io
from pathlib import Path

# A few sentences in the project's core languages, enough to train a ~100-piece SentencePiece model.
_TOKENIZER_TEXT = [
    "the cat sat on the mat",
    "the weather is nice today",
    "we are going to the station",
    "el gato se sentó en la alfombra",
    "hoy hace buen tiempo en la ciudad",
    "vamos a la estación de tren",
    "die katze saß auf der matte",
    "heute ist das wetter schön",
    "wir gehen zum bahnhof",
    "le chat est assis sur le tapis",
    "il fait beau aujourd'hui",
    "nous allons à la gare",
] * 4


def build_tiny_comet_checkpoint(root: Path, seed: int = 0) -> Path:
    """Write the fixture under ``root`` and return the path of ``checkpoints/model.ckpt``."""
    import pytorch_lightning as pl
    import sentencepiece as spm
    import torch
    import yaml
    from comet.models import RegressionMetric
    from transformers import XLMRobertaConfig, XLMRobertaTokenizer, XLMRobertaTokenizerFast

    enc_dir = root / "encoder"
    enc_dir.mkdir(parents=True, exist_ok=True)

    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(_TOKENIZER_TEXT),
        model_writer=buf,
        vocab_size=100,
        model_type="unigram",
        character_coverage=1.0,
        hard_vocab_limit=False,
        num_threads=1,
        minloglevel=2,
    )
    spm_path = enc_dir / "sentencepiece.bpe.model"
    spm_path.write_bytes(buf.getvalue())
    XLMRobertaTokenizer(vocab_file=str(spm_path)).save_pretrained(enc_dir)
    fast = XLMRobertaTokenizerFast.from_pretrained(enc_dir)
    fast.save_pretrained(enc_dir)

    XLMRobertaConfig(
        vocab_size=len(fast),
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=66,
        pad_token_id=fast.pad_token_id,
        bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id,
    ).save_pretrained(enc_dir)

    torch.manual_seed(seed)
    model = RegressionMetric(
        encoder_model="XLM-RoBERTa",
        pretrained_model=str(enc_dir),
        load_pretrained_weights=False,
        local_files_only=True,
        hidden_sizes=[16],
        layer="mix",
        pool="avg",
        dropout=0.0,
    )
    hparams = dict(model.hparams)
    ckpt_dir = root / "checkpoints"
    ckpt_dir.mkdir(exist_ok=True)
    ckpt = ckpt_dir / "model.ckpt"
    torch.save(
        {
            "state_dict": model.state_dict(),
            "hyper_parameters": hparams,
            "pytorch-lightning_version": pl.__version__,
        },
        ckpt,
    )
    (root / "hparams.yaml").write_text(yaml.safe_dump(hparams), encoding="utf-8")
    return ckpt
