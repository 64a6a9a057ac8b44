"""Welsh words to one form: lemma, mutation undone, northern and southern forms joined.

Victims write "gyllell", "nghyllell" and "chyllell" for "cyllell" (knife), "fygwth" and
"mygwth" for "bygwth" (threaten), "isio" or "moyn" for "eisiau", "efo" for "gyda". The
dictionary is simplemma's Welsh one (offline, in the package); the mutation rules are
Welsh grammar's initial consonant mutations (soft, nasal, aspirate, h before a vowel);
the dialect table below is ours. A word that English also has is left as written, so "the"
stays "the", not "te" (tea), and "case" in "any update ar y case" stays "case"; mutations
are only undone on a word neither dictionary knows.
"""

from __future__ import annotations

import simplemma

# Northern and southern forms, words simplemma reads wrongly in our messages ("fe" as a
# mutated "be", "di" as "ti"), and mutated forms that English also has ("lys"), to one
# form each.
DIALECT = {
    "lys": "llys",
    "be": "beth",
    "beth": "beth",
    "isio": "eisiau",
    "isho": "eisiau",
    "ishe": "eisiau",
    "eisio": "eisiau",
    "moyn": "eisiau",
    "efo": "gyda",
    "hefo": "gyda",
    "gida": "gyda",
    "rŵan": "nawr",
    "rwan": "nawr",
    "hogyn": "bachgen",
    "crwt": "bachgen",
    "hogan": "merch",
    "croten": "merch",
    "deud": "dweud",
    "ddeud": "dweud",
    "gweud": "dweud",
    "weud": "dweud",
    "ddweud": "dweud",
    "gwbod": "gwybod",
    "wbod": "gwybod",
    "mas": "allan",
    "fe": "ef",
    "fo": "ef",
    "di": "wedi",
    "ffono": "ffonio",
    "ffona": "ffonio",
    "dwi": "bod",
    "dw": "bod",
    "wi": "bod",
    "odi": "bod",
    "odyn": "bod",
    "yndi": "bod",
    "ydi": "bod",
    "ma": "bod",
    "ddim": "dim",
    "sdim": "dim",
    "ei": "ei",
    "gynno": "gan",
    "ganddo": "gan",
    "ganddi": "gan",
    "gynnoch": "gan",
    "gen": "gan",
}

# Initial consonant mutations, undone: each mutated beginning and the radical ones it may
# come from, longest beginnings first (nasal "ngh" before "ng" before "n").
UNMUTATE = (
    ("ngh", ("c",)),
    ("mh", ("p",)),
    ("nh", ("t",)),
    ("ng", ("g",)),
    ("ch", ("c",)),
    ("ph", ("p",)),
    ("th", ("t",)),
    ("dd", ("d",)),
    ("f", ("b", "m")),
    ("g", ("c",)),
    ("b", ("p",)),
    ("d", ("t",)),
    ("l", ("ll",)),
    ("r", ("rh",)),
    ("m", ("b",)),
    ("n", ("d",)),
    ("h", ("",)),
)
VOWELS = "aeiouwyâêîôûŵŷ"


def _known(word: str, lang: str) -> bool:
    return bool(simplemma.is_known(word, lang=lang))


def radical(word: str) -> str | None:
    """The dictionary word a mutated form comes from, or None when none is known."""
    candidates = [
        start + word[len(mutated) :]
        for mutated, starts in UNMUTATE
        if word.startswith(mutated)
        for start in starts
    ]
    if word[:1] in VOWELS:
        candidates.append("g" + word)  # soft mutation drops a g: "wneud" from "gwneud"
    return next((c for c in candidates if len(c) > 1 and _known(c, "cy")), None)


def lemma(word: str) -> str:
    """One form for a word (lower case): the dialect table's, else the Welsh lemma of a
    Welsh word (its mutation undone when only that makes it one), else the word."""
    word = word.casefold()
    if word in DIALECT:
        return DIALECT[word]
    if _known(word, "en"):
        return word
    if _known(word, "cy"):
        return str(simplemma.lemmatize(word, lang="cy"))
    found = radical(word)
    if found is None:
        return word
    return DIALECT.get(found) or str(simplemma.lemmatize(found, lang="cy"))


def lemmas(words: list[str]) -> list[str]:
    """lemma() of each word, same length and order."""
    return [lemma(word) for word in words]
