"""A guard against greedy decoding loops ("the the the …", a clause repeated forever)."""

from __future__ import annotations


def find_loop(words: list[str], max_span: int = 8, repeats: int = 3) -> int | None:
    """If the text ends with a span repeated ``repeats`` times, return the word count to keep
    (the text up to and including the first copy); otherwise ``None``."""
    n = len(words)
    for span in range(1, max_span + 1):
        if n < span * repeats:
            break
        tail = words[n - span:]
        if all(words[n - span * (r + 1): n - span * r] == tail for r in range(1, repeats)):
            return n - span * (repeats - 1)
    return None
