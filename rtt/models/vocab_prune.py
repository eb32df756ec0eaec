"""Derive a GGUF model with a smaller vocabulary: fewer output rows, faster tokens.

Why: Gemma 3 270M has a 262,144-token vocabulary for 140 languages and a 640-wide hidden
state, so its output projection (the tied embedding, 168M weights) costs more per generated
token than all 18 transformer blocks together (~100M).  A translator among languages written
in the Latin alphabet never needs the Cyrillic, CJK, Indic... rows.  Dropping them makes every
generated token cheaper; prompts and the KV cache are untouched.

What stays exactly the same: llama.cpp's SentencePiece tokenizer merges adjacent pieces whose
concatenation is in the vocabulary, best score first.  Every piece of a kept token's merge
path is a substring of it and therefore uses only kept characters, so any text written with
the kept characters tokenizes to the same pieces as before, and as long as the unpruned model's
greedy choice is a kept token the output is identical.  Text outside the kept characters still
tokenizes, through the byte pieces (kept), but less well: engines serving a pruned model
declare the directions it is for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from rtt.models.gguf_file import GgufError, GgufFile, Value, read_gguf, write_gguf

# tokenizer.ggml.token_type values (llama.cpp's llama_token_type)
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6

SPECIAL_ID_KEYS = (
    "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id",
    "tokenizer.ggml.padding_token_id", "tokenizer.ggml.separator_token_id", "tokenizer.ggml.eot_token_id",
    "tokenizer.ggml.eom_token_id", "tokenizer.ggml.mask_token_id", "tokenizer.ggml.cls_token_id",
)
# Per-token arrays of the tokenizer, pruned alongside the vocabulary.
PER_TOKEN_KEYS = ("tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type")
# Tensors with one row per token (Gemma ties the output projection to the embedding).
PER_TOKEN_TENSORS = ("token_embd.weight", "output.weight")

SPACE = "\u2581"  # SentencePiece's word-boundary mark


# Languages whose text uses only :func:`latin_chars` (the pruned model serves pairs of these).
LATIN_LANGUAGES: tuple[str, ...] = ("en", "es", "de", "fr", "it", "pt", "nl", "ca", "pl")


def latin_chars() -> frozenset[str]:
    """Characters of the :data:`LATIN_LANGUAGES` and of the names news text quotes in them."""
    chars = {chr(c) for c in range(0x20, 0x7F)} | {"\t", "\n", "\r", SPACE}
    chars |= {chr(c) for c in range(0xA0, 0x100)}  # Latin-1: accents, ß, ñ, ç, «», ¿¡, °
    # Latin Extended-A: French Œœ Ÿ, Dutch Ĳ, Polish, and names such as Erdoğan, Dvořák, Łódź
    # (measured: without it a FLORES line quoting "Erdoğan" tokenized differently and changed).
    chars |= {chr(c) for c in range(0x100, 0x180)}
    chars |= {chr(c) for c in range(0x2010, 0x2030)}  # dashes, quotes, bullets, ellipsis, ‰
    chars |= set("‹›⁄€₤₧™№℃℉−×÷")
    return frozenset(chars)


def keep_for_chars(chars: frozenset[str]) -> Callable[[int, str, int], bool]:
    """Keep tokens written only with ``chars``, plus the tokenizer's special pieces."""

    def keep(token_id: int, piece: str, token_type: int) -> bool:
        if token_type in (UNKNOWN, BYTE):
            return True
        if token_type == CONTROL:
            return not piece.startswith("<unused")  # Gemma's 6,000+ reserved slots are never emitted
        return bool(piece) and all(c in chars for c in piece)

    return keep


def prune_vocab(src: str | Path, dst: str | Path, keep: Callable[[int, str, int], bool]) -> dict[str, int]:
    """Write ``src`` to ``dst`` with only the tokens ``keep`` accepts; returns the counts."""
    gguf = read_gguf(src)
    meta = gguf.metadata
    if meta.get("tokenizer.ggml.model", Value(8, "")).value != "llama":
        raise GgufError("only SentencePiece ('llama') tokenizers can be pruned this way")
    tokens: list[str] = meta["tokenizer.ggml.tokens"].value
    types: list[int] = meta["tokenizer.ggml.token_type"].value
    kept = [i for i, (piece, ttype) in enumerate(zip(tokens, types, strict=True)) if keep(i, piece, ttype)]
    new_id = {old: new for new, old in enumerate(kept)}
    for key in SPECIAL_ID_KEYS:
        if key in meta:
            old = int(meta[key].value)
            if old not in new_id:
                raise GgufError(f"{key} ({tokens[old]!r}) would be pruned")
            meta[key] = Value(meta[key].type, new_id[old])
    for key in PER_TOKEN_KEYS:
        if key in meta:
            v = meta[key]
            meta[key] = Value(v.type, [v.value[i] for i in kept], v.item_type)
    _select_rows(gguf, kept, len(tokens))
    name = meta.get("general.name")
    if name is not None:
        meta["general.name"] = Value(name.type, f"{name.value} (vocabulary {len(kept)})")
    write_gguf(gguf, dst)
    return {"tokens_before": len(tokens), "tokens_after": len(kept)}


def _select_rows(gguf: GgufFile, rows: Iterable[int], n_vocab: int) -> None:
    rows = list(rows)
    for i, t in enumerate(gguf.tensors):
        if t.name in PER_TOKEN_TENSORS:
            if t.dims[-1] != n_vocab:
                raise GgufError(f"{t.name} has {t.dims[-1]} rows for {n_vocab} tokens")
            gguf.tensors[i] = t.select_rows(rows)
