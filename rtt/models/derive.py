"""Models the store computes from other packaged models (a pure function of the base's bytes).

A derived model is pulled like any other: its base is assembled from its packages first, then
the named derivation writes the new file, whose sha256 is pinned in the catalog like a packaged
file's, so the result is the same on every machine.
"""

from __future__ import annotations

from pathlib import Path

from rtt.errors import ModelMissing

DERIVATIONS: tuple[str, ...] = ("vocab-latin",)


def derive_file(derivation: str, src: Path, dst: Path) -> dict[str, object]:
    """Write ``dst`` from ``src``; returns what the manifest records about the step."""
    if derivation == "vocab-latin":
        from rtt.models.vocab_prune import keep_for_chars, latin_chars, prune_vocab

        return dict(prune_vocab(src, dst, keep_for_chars(latin_chars())))
    raise ModelMissing(f"unknown derivation {derivation!r}; known: {', '.join(DERIVATIONS)}")
