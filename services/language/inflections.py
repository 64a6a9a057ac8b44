"""Verbs in every person and tense, built by rule, in Welsh and in English.

A victim tells what happened as often as what is happening: "dilynodd o fi adre" (he
followed me home), "mi fygythiodd hi fi", "he followed me", "she's been stalking me". The
danger safety net (services/conversations/safety.py) writes each verb once, as the
Welsh verb-noun ("dilyn") or the English base form ("follow"), and this module gives every
form the verb takes, so the lists never have to spell out persons and tenses (as
services/language/mutations.py does for Welsh initial mutations).

Welsh: a verb's stem is its verb-noun less its ending (-io keeps its i: "cicio" -> "cici";
-u, -o, -i, -a, -ed, -an, -eg and -yd are dropped: "taro" -> "tar", "stelcian" -> "stelci";
a verb-noun that ends in a consonant is its own stem: "dilyn", "lladd"), with the irregular
stems in `WELSH_STEMS`. The personal endings are those of the standard tables (Gareth King,
"Modern Welsh: A Comprehensive Grammar", Routledge, 3rd edition, 2016, the chapters on the
preterite, the future and the conditional), written as victims text them: the literary
first person plural -om beside the spoken -on, the northern -ith and the southern -iff of
the future, and the southern -ws of the past ("ciciws e fi"). Every ending is put on every
stem, whether or not the grammar would use it there; like the mutations, that only
over-generates. Periphrastic forms ("wnaeth o fy nilyn", "ddaru o ddilyn fi", "mae o
wedi fy nilyn") keep the verb-noun, which the mutations already cover.

English: -s, -ed and -ing by the spelling rules (e dropped before -ed and -ing, y to i
after a consonant, the last consonant doubled after one short vowel in a word of one
syllable: "stab" -> "stabbed"), the g-less "-in" of texting ("followin"), and the
irregular forms in `ENGLISH_IRREGULAR`.

Only the verbs listed here are inflected: any other word is read as itself. A word of
another verb whose form happened to be a list word ("stand" -> "stands") would otherwise
be read as that word.
"""

from __future__ import annotations

# Welsh verb-nouns with an irregular stem (or two): King, the preterite chapter. "taro"
# has both "tarodd" and "trawodd"; "bwrw" is "bwriodd"; "bygwth" is "bygythiodd".
WELSH_STEMS: dict[str, tuple[str, ...]] = {
    "bygwth": ("bygythi",),
    "bwrw": ("bwri",),
    "taro": ("tar", "traw"),
    "gweld": ("gwel",),
    "dal": ("dali", "dal"),
    "cymryd": ("cymr", "cymer"),
    "aros": ("arhos",),
    "gadael": ("gadaw", "gadew"),
    "cadw": ("cadw", "cedw"),
    "cau": ("cae",),
    "cloi": ("clo", "cloi"),
    "gweiddi": ("gwaedd", "gweidd"),
    "cyrraedd": ("cyrhaedd",),
}

# The Welsh verb-nouns the net knows as verbs. Each is inflected by `welsh_forms`.
WELSH_VERBS: frozenset[str] = frozenset(
    {
        *WELSH_STEMS,
        # violence and threats
        *["taro", "curo", "brifo", "anafu", "niweidio", "ymosod", "tagu", "cicio"],
        *["gwthio", "lladd", "trywanu", "llusgo", "dyrnu", "slapio", "treisio"],
        *["cnoi", "mygu", "cydio", "hitio", "atacio", "hurtio", "stabio", "pwnio", "malu"],
        *["llosgi"],
        *["threatenio", "threatnio"],
        # following, watching, waiting, hiding
        *["dilyn", "gwylio", "stelcian", "cuddio", "parcio", "cyrraedd", "cnocio"],
        *["gweiddi", "ffeindio"],
        # keeping in, throwing out
        *["cloi", "cau", "carcharu", "taflu"],
    }
)

# Personal endings (King): past; future and present; conditional and imperfect; imperative.
_PAST = ("ais", "aist", "odd", "om", "on", "och", "asant", "wyd", "ws")
_FUTURE = ("af", "a", "i", "ith", "iff", "wn", "wch", "an", "ir", "ff")
_CONDITIONAL = ("wn", "et", "ai", "em", "ech", "ent", "swn", "sai")
WELSH_ENDINGS: tuple[str, ...] = tuple(dict.fromkeys(_PAST + _FUTURE + _CONDITIONAL))

_VERB_NOUN_ENDINGS = ("ian", "ed", "eg", "yd", "an", "u", "o", "i", "a")


def welsh_stems(verb_noun: str) -> tuple[str, ...]:
    """The stems of a Welsh verb-noun (normalised: no accents, lower case)."""
    if verb_noun in WELSH_STEMS:
        return WELSH_STEMS[verb_noun]
    if verb_noun.endswith("io"):
        return (verb_noun[:-1],)
    if verb_noun.endswith("ian"):
        return (verb_noun[:-2],)
    for ending in _VERB_NOUN_ENDINGS:
        if verb_noun.endswith(ending) and len(verb_noun) > len(ending) + 1:
            return (verb_noun[: -len(ending)],)
    return (verb_noun,)


def welsh_forms(verb_noun: str) -> frozenset[str]:
    """Every inflected form of a Welsh verb-noun in `WELSH_VERBS` (not the verb-noun itself).

    Empty for any other word. An ending that starts with i after a stem that ends in i
    keeps one i ("cici" + "ith" -> "cicith").
    """
    if verb_noun not in WELSH_VERBS:
        return frozenset()
    found = set()
    for stem in welsh_stems(verb_noun):
        for ending in WELSH_ENDINGS:
            keep = stem[:-1] if stem.endswith("i") and ending.startswith("i") else stem
            found.add(keep + ending)
    found.discard(verb_noun)
    return frozenset(found)


# English verbs with irregular forms: base -> (past, past participle).
ENGLISH_IRREGULAR: dict[str, tuple[str, ...]] = {
    "hit": ("hit",),
    "beat": ("beat", "beaten"),
    "hurt": ("hurt",),
    "bite": ("bit", "bitten"),
    "keep": ("kept",),
    "hold": ("held",),
    "break": ("broke", "broken"),
    "hide": ("hid", "hidden"),
    "spit": ("spat",),
    "burn": ("burnt", "burned"),
    "throw": ("threw", "thrown"),
    "find": ("found",),
}

# The English verbs the net knows as verbs. Each is inflected by `english_forms`. Verbs
# whose every form is ordinary in a victim's message about their case ("turn up" at court,
# "take" a phone number, "come" to the hearing) are left out: their danger forms are
# written in the lists as phrases.
ENGLISH_VERBS: frozenset[str] = frozenset(
    {
        *ENGLISH_IRREGULAR,
        *["follow", "stalk", "watch", "threaten", "attack", "assault", "strangle"],
        *["choke", "kick", "punch", "push", "shove", "slap", "rape", "stab", "grab"],
        *["drag", "kill", "smother", "pin", "abuse", "trap", "smash", "bang", "batter"],
        *["lurk", "track", "chuck", "menace", "intimidate", "harass", "lock"],
    }
)

_VOWELS = "aeiou"


def _doubles(base: str) -> bool:
    """Whether the last consonant doubles before -ed/-ing: one syllable, one short vowel."""
    vowels = [i for i, c in enumerate(base) if c in _VOWELS]
    return (
        len(vowels) == 1
        and vowels[0] == len(base) - 2
        and base[-1] not in "wxy"
        and base[-1] not in _VOWELS
    )


def english_forms(base: str) -> frozenset[str]:
    """Every form of an English verb in `ENGLISH_VERBS`, the base included; empty otherwise."""
    if base not in ENGLISH_VERBS:
        return frozenset()
    if base.endswith(("s", "sh", "ch", "x", "z", "o")):
        third = base + "es"
    elif base.endswith("y") and base[-2:-1] not in _VOWELS:
        third = base[:-1] + "ies"
    else:
        third = base + "s"
    if base.endswith("e"):
        past, present = base + "d", base[:-1] + "ing"
    elif base.endswith("y") and base[-2:-1] not in _VOWELS:
        past, present = base[:-1] + "ied", base + "ing"
    elif _doubles(base):
        past, present = base + base[-1] + "ed", base + base[-1] + "ing"
    else:
        past, present = base + "ed", base + "ing"
    irregular = ENGLISH_IRREGULAR.get(base)
    pasts = irregular if irregular else (past,)
    return frozenset({base, third, present, present[:-1], *pasts})
