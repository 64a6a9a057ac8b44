"""Finding phrases in a message fast, in English, in Welsh in every mutation, and in both mixed.

What it is for: the danger safety net (services/conversations/safety.py), which runs on every
message as it arrives, in the webhook, and so must cost microseconds, not a scan of thousands
of phrases.

How a message is read (`Reader.words`):

1. normalised as every list in this project is (services/language/phrases.py: no accents,
   apostrophes or punctuation, lower case);
2. text-speak spelt out (`TEXT_SPEAK`: "sum1" is "someone", "2" is "to", "isio" is
   "eisiau"), the same for the phrases, so lists are written in plain words;
3. filler words dropped (`FILLERS`: "just", "still", "eto", "newydd"...), so "he's just
   turned up" is "hes turned up";
4. each Welsh word that is a mutated form of a word in the lists is also read as its radical
   (services/language/mutations.py): "gyllell", "nghyllell" and "chyllell" are also "cyllell".

A `Pattern` is a sequence of `Slot`s, each a set of phrases in English and Welsh; a message
matches when each slot's phrase follows the one before, whichever language each is in ("mae
ganddo knife", "he's got a gyllell"). A `Gap` lets a few words come between two slots, and
`END` says the message must end there. Matching builds, once per message, the lattice of
every slot phrase that starts at every word (one set lookup per word n-gram that can still
grow into a phrase), then walks the patterns from where their first slot was found.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from services.language.inflections import ENGLISH_VERBS, english_forms, welsh_forms
from services.language.mutations import forms
from services.language.phrases import normalise

# Spelled out before anything is matched, in messages and in phrases alike. Keys are
# normalised words; values are what they stand for.
TEXT_SPEAK: dict[str, str] = {
    # English
    "2": "to",
    "4": "for",
    "u": "you",
    "ur": "your",
    "sum1": "someone",
    "some1": "someone",
    "sumone": "someone",
    "sumbody": "somebody",
    "bk": "back",
    "bak": "back",
    "tryin": "trying",
    "tryna": "trying to",
    "gonna": "going to",
    "gunna": "going to",
    "wanna": "want to",
    "goin": "going",
    "comin": "coming",
    "wiv": "with",
    "pls": "please",
    "plz": "please",
    "plse": "please",
    "plis": "please",
    "hez": "hes",
    "ppl": "people",
    "hse": "house",
    "dor": "door",
    "outsid": "outside",
    "ouside": "outside",
    "outide": "outside",
    "kil": "kill",
    "thretening": "threatening",
    "threatning": "threatening",
    "threating": "threatening",
    "thretened": "threatened",
    "suicde": "suicide",
    "scard": "scared",
    "scaired": "scared",
    "skared": "scared",
    "frightend": "frightened",
    "dnt": "dont",
    "cnt": "cant",
    "rn": "now",
    "nite": "night",
    "tonite": "tonight",
    "anymore": "any more",
    # Welsh: the spoken forms of "want", and "di" for "wedi".
    "isio": "eisiau",
    "isie": "eisiau",
    "eisie": "eisiau",
    "ishe": "eisiau",
    "moyn": "eisiau",
    "di": "wedi",
    "rili": "really",
    # Contractions typed without their apostrophe ("rwy'n" is "rwy yn", above).
    "rwyn": "rwy yn",
    "dwin": "dwi yn",
    "sain": "sai yn",
    # One article: "yr" before a vowel is "y" (and "'r", below).
    "yr": "y",
}

# Welsh joins "yn", "y" and "ei" to the word before with an apostrophe ("mae'n", "i'r",
# "â'i"); they are words of their own here, so "mae o'n" reads as "mae o yn". (English
# apostrophes go before other letters: "he's", "don't".)
_WELSH_CLITIC = re.compile(r"(?<=\w)['’‘`´ʼ]([nri])\b", re.IGNORECASE)
_CLITIC_WORD = {"n": "yn", "r": "y", "i": "ei"}

# Words that add nothing to whether a message is one of ours, and would only keep two words
# of a phrase apart: "he's just turned up", "mae o newydd gyrraedd", "mae o dal tu allan".
FILLERS = frozenset(
    {
        "just",
        "still",
        "actually",
        "literally",
        "again",
        "right",
        "eto",
        "newydd",
    }
)

# Welsh words that are never read as mutated forms: pronouns, articles, particles and short
# prepositions. Their "forms" would be other common words ("e" -> "he", "i" -> "hi",
# "yn" -> "hyn"), and the words around them carry the meaning.
NOT_MUTATED = frozenset(
    {
        "a",
        "ac",
        "ai",
        "am",
        "ar",
        "at",
        "be",
        "chi",
        "di",
        "dy",
        "e",
        "ei",
        "ein",
        "eu",
        "fe",
        "fi",
        "fo",
        "fy",
        "hi",
        "i",
        "ir",
        "ma",
        "mae",
        "maen",
        "mi",
        "na",
        "ni",
        "nhw",
        "o",
        "or",
        "os",
        "r",
        "ti",
        "wedi",
        "y",
        "yn",
        "yr",
    }
)


# Welsh subject pronouns: after an inflected verb they are its subject, which the ending
# already carries ("dilynodd o fi": followed he me), so a second reading leaves them out and
# "dilynodd o fi" reads as "dilyn fi", as the lists write it.
# "di" (you) is among them as "wedi": the text-speak table reads "di" as "wedi", which never
# follows an inflected verb otherwise.
SUBJECTS = frozenset({"e", "o", "fe", "fo", "hi", "nhw", "i", "ti", "ni", "chi", "wedi"})


def canonical(text: str) -> tuple[str, ...]:
    """`text` as words: normalised, text-speak spelt out, fillers dropped."""
    text = _WELSH_CLITIC.sub(lambda m: " " + _CLITIC_WORD[m.group(1).lower()], text)
    words: list[str] = []
    for word in normalise(text).split():
        for spelt in TEXT_SPEAK.get(word, word).split():
            if spelt not in FILLERS:
                words.append(spelt)
    return tuple(words)


@dataclass(frozen=True)
class Slot:
    """Phrases that play one part in a pattern, in English and in Welsh.

    Welsh words are also matched in every mutated form; English words never are.
    """

    name: str
    english: tuple[str, ...] = ()
    welsh: tuple[str, ...] = ()

    @classmethod
    def of(cls, name: str, english: Iterable[str] = (), welsh: Iterable[str] = ()) -> Slot:
        return cls(name, tuple(english), tuple(welsh))

    def __add__(self, other: Slot) -> Slot:
        return Slot(
            f"{self.name}+{other.name}", self.english + other.english, self.welsh + other.welsh
        )


@dataclass(frozen=True)
class Gap:
    """Up to `words` words of anything between two slots."""

    words: int


@dataclass(frozen=True)
class End:
    """The message ends here."""


END = End()

Part = Slot | Gap | End


@dataclass(frozen=True)
class Maybe:
    """A slot that may be left out."""

    slot: Slot


Element = Part | Maybe


@dataclass(frozen=True)
class Pattern:
    """Slots in order; a message matches when they follow each other."""

    elements: tuple[Element, ...]

    @classmethod
    def of(cls, *elements: Element) -> Pattern:
        return cls(tuple(elements))


def cross(*parts: Iterable[str]) -> list[str]:
    """Every phrase made of one item from each part, in order ("" items are left out)."""
    return [" ".join(w for w in combo if w) for combo in itertools.product(*parts)]


@dataclass
class Match:
    """Where a pattern matched: its words, as read."""

    words: tuple[str, ...]

    def __str__(self) -> str:
        return " ".join(self.words)


@dataclass
class Reader:
    """The compiled patterns: what a message's words are read as, and the slot index."""

    patterns: Sequence[Pattern]
    # n-gram of canonical words -> the slots it is a phrase of.
    index: dict[str, set[str]] = field(default_factory=dict)
    # A mutated Welsh form -> the radical words (in the lists) it may be.
    radicals: dict[str, set[str]] = field(default_factory=dict)
    # An inflected verb (services/language/inflections.py), in Welsh also mutated -> the
    # verb-noun or English form in the lists it is a form of.
    lemmas: dict[str, set[str]] = field(default_factory=dict)
    # The Welsh inflected forms among `lemmas`: a subject pronoun may follow them.
    finite: frozenset[str] = frozenset()
    # Every index key and the words it starts with ("at", "at the", "at the door"): an
    # n-gram that is none of these cannot grow into a phrase, so its start is done with.
    prefixes: frozenset[str] = frozenset()
    # Each pattern's first slot (None when it starts otherwise): walked only from the words
    # where that slot was found.
    starts: tuple[str | None, ...] = ()

    @classmethod
    def compile(cls, patterns: Sequence[Pattern]) -> Reader:
        """Index every slot phrase of `patterns`, and every mutated form of its Welsh words."""
        slots: dict[str, Slot] = {}
        for pattern in patterns:
            for element in pattern.elements:
                slot = element.slot if isinstance(element, Maybe) else element
                if isinstance(slot, Slot):
                    if slots.setdefault(slot.name, slot) != slot:
                        raise ValueError(f"two different slots are named {slot.name!r}")
        english = {w for s in slots.values() for p in s.english for w in canonical(p)}
        welsh = {w for s in slots.values() for p in s.welsh for w in canonical(p)}
        radicals: dict[str, set[str]] = defaultdict(set)
        for radical in sorted(welsh - NOT_MUTATED):
            for form in forms(radical).values():
                # A word of the English lists is read as itself only: "bat" soft-mutated is
                # "fat", but "fat" must not be read as a bat.
                if form not in english:
                    radicals[form].add(radical)
        lemmas: dict[str, set[str]] = defaultdict(set)
        for verb in sorted(welsh):
            for inflected in welsh_forms(verb):
                for form in (inflected, *forms(inflected).values()):
                    if form not in english:
                        lemmas[form].add(verb)
        finite = frozenset(lemmas)
        for word in sorted(english):
            for base in _english_bases().get(word, ()):
                for form in english_forms(base) - {word}:
                    lemmas[form].add(word)
        index: dict[str, set[str]] = defaultdict(set)
        for slot in slots.values():
            for phrase in (*slot.english, *slot.welsh):
                fillers = FILLERS.intersection(normalise(phrase).split())
                if fillers:
                    # A filler is dropped from messages, so a phrase with one never matches.
                    raise ValueError(f"{phrase!r} in {slot.name!r} has fillers: {fillers}")
                words = canonical(phrase)
                if words:
                    index[" ".join(words)].add(slot.name)
        prefixes = frozenset(
            " ".join(key.split()[:n]) for key in index for n in range(1, len(key.split()) + 1)
        )
        starts = tuple(
            p.elements[0].name if p.elements and isinstance(p.elements[0], Slot) else None
            for p in patterns
        )
        return cls(
            patterns,
            index=dict(index),
            radicals=dict(radicals),
            lemmas=dict(lemmas),
            finite=finite,
            prefixes=prefixes,
            starts=starts,
        )

    def words(self, text: str) -> list[tuple[str, ...]]:
        """Each word of `text` as read: itself, and the list words it may be a form of."""
        return [
            (w, *sorted(self.radicals.get(w, set()) | self.lemmas.get(w, set())))
            for w in canonical(text)
        ]

    def readings(self, text: str) -> list[list[tuple[str, ...]]]:
        """`text` as read (`words`), and, when a Welsh inflected verb is followed by its
        subject pronoun, also without those pronouns."""
        words = self.words(text)
        dropped = [
            word
            for i, word in enumerate(words)
            if not (i > 0 and word[0] in SUBJECTS and words[i - 1][0] in self.finite)
        ]
        return [words] if len(dropped) == len(words) else [words, dropped]

    def _lattice(self, words: list[tuple[str, ...]]) -> list[dict[str, set[int]]]:
        """For each word: the slots with a phrase starting there, and where each may end."""
        lattice: list[dict[str, set[int]]] = [defaultdict(set) for _ in range(len(words) + 1)]
        for start in range(len(words)):
            grams = [w for w in words[start] if w in self.prefixes]
            stop = start + 1
            while grams:
                for gram in grams:
                    for slot in self.index.get(gram, ()):
                        lattice[start][slot].add(stop)
                if stop == len(words):
                    break
                grams = [
                    grown
                    for gram in grams
                    for w in words[stop]
                    if (grown := f"{gram} {w}") in self.prefixes
                ]
                stop += 1
        return lattice

    def find(self, text: str) -> Match | None:
        """The first pattern found in `text` (in any of its readings), or None."""
        for words in self.readings(text):
            found = self._find(words)
            if found is not None:
                return found
        return None

    def _find(self, words: list[tuple[str, ...]]) -> Match | None:
        if not words:
            return None
        lattice = self._lattice(words)
        end = len(words)
        for start in range(end):
            found = lattice[start]
            for pattern, first in zip(self.patterns, self.starts, strict=True):
                if first is not None and first not in found:
                    continue
                stop = _walk(pattern.elements, {start}, lattice, end)
                if stop is not None:
                    return Match(tuple(w[0] for w in words[start:stop]))
        return None


@functools.cache
def _english_bases() -> dict[str, set[str]]:
    """Every form of the English verbs that are inflected -> the base forms it belongs to."""
    bases: dict[str, set[str]] = defaultdict(set)
    for base in ENGLISH_VERBS:
        for form in english_forms(base):
            bases[form].add(base)
    return dict(bases)


def _walk(
    elements: Sequence[Element], at: set[int], lattice: list[dict[str, set[int]]], end: int
) -> int | None:
    """Follow `elements` from the positions `at`; the furthest end reached, or None."""
    for element in elements:
        if isinstance(element, Gap):
            at = {p + k for p in at for k in range(element.words + 1) if p + k <= end}
        elif isinstance(element, End):
            at = {p for p in at if p == end}
        elif isinstance(element, Maybe):
            at = at | {e for p in at for e in lattice[p].get(element.slot.name, ())}
        else:
            at = {e for p in at for e in lattice[p].get(element.name, ())}
        if not at:
            return None
    return max(at)
