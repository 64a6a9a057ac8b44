"""Matching a victim's free-text answer against short lists of words, in English and Welsh.

Messages are normalised as the safety net does (services/safety.normalise: no accents,
apostrophes or punctuation, lower case), so lists are written naturally and match whole
words only: "no" matches "no thanks" but not "know".
"""

from __future__ import annotations

from collections.abc import Iterable

from services.safety import normalise


def words(text: str) -> str:
    """The normalised form of `text`."""
    return normalise(text)


def contains(text: str, phrases: Iterable[str]) -> bool:
    """Whether any phrase occurs in `text` as whole words."""
    padded = f" {normalise(text)} "
    return any(f" {normalise(p)} " in padded for p in phrases if normalise(p))


def is_one_of(text: str, phrases: Iterable[str]) -> bool:
    """Whether the whole of `text` is one of the phrases."""
    norm = normalise(text)
    return any(norm == normalise(p) for p in phrases)
