"""Suggestions for misspelt names (config keys, columns, estimator parameters): "did you mean ...?"."""

from __future__ import annotations

import difflib


def _edits(a: str, b: str) -> int:
    """Edit distance counting a swap of two neighbouring letters as one edit (optimal string alignment)."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def closest(name: str, choices, cutoff: float = 0.6) -> str | None:
    """The choice ``name`` was most likely meant to be: among difflib's close matches, the fewest edits (a swap of
    two letters is one), then difflib's order; None if nothing is close."""
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=5, cutoff=cutoff)
    return min(close, key=lambda c: (_edits(str(name), c), close.index(c))) if close else None
