"""Matching a victim's free-text answer against short lists of words, in English and Welsh.

Messages are normalised (`normalise`: no accents, apostrophes or punctuation, lower case),
the same way here and in the danger safety net, so lists are written naturally and match
whole words only: "no" matches "no thanks" but not "know".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_APOSTROPHES = re.compile(r"['’‘`´ʼ]")
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def normalise(body: str) -> str:
    """Lower-case words separated by single spaces: no accents, apostrophes or punctuation."""
    joined = _APOSTROPHES.sub("", body)
    folded = "".join(
        c for c in unicodedata.normalize("NFKD", joined) if not unicodedata.combining(c)
    )
    return _NOT_WORD.sub(" ", folded.casefold()).strip()


def contains(text: str, phrases: Iterable[str]) -> bool:
    """Whether any phrase occurs in `text` as whole words."""
    padded = f" {normalise(text)} "
    return any(f" {normalise(p)} " in padded for p in phrases if normalise(p))


def is_one_of(text: str, phrases: Iterable[str]) -> bool:
    """Whether the whole of `text` is one of the phrases."""
    norm = normalise(text)
    return any(norm == normalise(p) for p in phrases)
