"""Welsh initial mutations: every form a radical word takes, built by rule.

Welsh changes the first sound of a word after certain words: "cyllell" (knife) is
"gyllell" after "ei" (his), "nghyllell" after "fy" (my) and "chyllell" after "â" (with).
A victim writes whichever the sentence needs, or whichever they think it needs, so the
danger safety net (services/conversations/safety.py) must know every form of its words.

The rules are the standard mutation tables, as set out in Gareth King, "Modern Welsh: A
Comprehensive Grammar" (Routledge, 3rd edition, 2016), the chapters on soft, nasal and
aspirate mutation and on h- before vowels (the same tables as the Welsh Government's and
Canolfan Bedwyr's published guides):

| radical | soft | nasal | aspirate |
|---|---|---|---|
| p | b | mh | ph |
| t | d | nh | th |
| c | g | ngh | ch |
| b | f | m | |
| d | dd | n | |
| g | (dropped) | ng | |
| m | f | | |
| ll | l | | |
| rh | r | | |

and h- before a word that begins with a vowel (after "ei" her, "ein" our, "eu" their, "'w",
"'i"). Words that begin with ch, ph, th, ff, f, dd, ng, h, n, l, r, s, j and the like never
mutate. Forms are given on text normalised as the safety net normalises it (no accents,
lower case), so "tŷ" gives "ty", "dy", "nhy" and "thy".

Every rule is applied to every word, whatever the word before it: a victim who writes a
mutation the grammar would not ask for there is still understood. That over-generates
("fy tharo" is no Welsh anyone writes), which costs nothing but a few entries in a set.
"""

from __future__ import annotations

import enum

VOWELS = frozenset("aeiouwy")

# Digraphs that are letters of their own: checked before their first letter. Only ll and
# rh mutate (soft); the rest never do.
_DIGRAPHS = ("ch", "dd", "ff", "ng", "ll", "ph", "rh", "th")


class Mutation(enum.Enum):
    """The kinds of initial mutation (King, "Modern Welsh", the mutation chapters)."""

    SOFT = "soft"
    NASAL = "nasal"
    ASPIRATE = "aspirate"
    H_PROTHESIS = "h"


_SOFT = {"p": "b", "t": "d", "c": "g", "b": "f", "d": "dd", "g": "", "m": "f", "ll": "l", "rh": "r"}
_NASAL = {"p": "mh", "t": "nh", "c": "ngh", "b": "m", "d": "n", "g": "ng"}
_ASPIRATE = {"p": "ph", "t": "th", "c": "ch"}


def _initial(word: str) -> str:
    """The word's first letter in the Welsh alphabet (a digraph counts as one)."""
    for digraph in _DIGRAPHS:
        if word.startswith(digraph):
            return digraph
    return word[:1]


def mutate(word: str, mutation: Mutation) -> str | None:
    """`word` (a radical, normalised) under `mutation`, or None when it does not change.

    A soft-mutated g is dropped ("gwn" -> "wn"), so a word of one letter "g" has no soft form.
    """
    if not word:
        return None
    if mutation is Mutation.H_PROTHESIS:
        return f"h{word}" if word[0] in VOWELS else None
    table = {Mutation.SOFT: _SOFT, Mutation.NASAL: _NASAL, Mutation.ASPIRATE: _ASPIRATE}[mutation]
    initial = _initial(word)
    if initial not in table:
        return None
    mutated = table[initial] + word[len(initial) :]
    return mutated or None


def forms(word: str) -> dict[Mutation, str]:
    """Every mutated form of a radical word, by mutation (the radical itself not included)."""
    found = {}
    for mutation in Mutation:
        mutated = mutate(word, mutation)
        if mutated is not None and mutated != word:
            found[mutation] = mutated
    return found
