"""The danger safety net: words that mean "I am in danger now", in English and Welsh.

It runs before the NLU model, on every message, and the model can never veto it (issue 3,
section 5). It is deliberately conservative toward recall: a missed cry for help is the
worst failure this service can have, while a false alarm costs an officer a look at a
conversation. So the phrases below are broad ("kill me", "mewn perygl"), include common
typos and text-speak, and an ordinary message that happens to contain one (a victim
quoting a threat from months ago) is accepted as the price.

Matching is on normalised text: apostrophes dropped ("he's" -> "hes", "rwy'n" -> "rwyn"),
Unicode NFKD with accents folded ("ŵ" -> "w"), case folded, anything else that is not a
letter or a digit turned into one space. A phrase matches only as whole words, so "he is
here" is found in "HE IS HERE!!" but not in "the hearing is here".
"""

from __future__ import annotations

from services.language.phrases import normalise

# Who "is here" / "is outside": the subject and place lists multiply out below.
_EN_SUBJECTS = ["he is", "hes", "hez", "he", "she is", "shes", "she", "they are", "theyre"]
_EN_PLACES = [
    "here",
    "hear",
    "outside",
    "outsid",
    "ouside",
    "outside my house",
    "at the door",
    "at my door",
    "at the window",
    "at my house",
    "in the house",
    "in my house",
    "downstairs",
    "in the garden",
    "trying to get in",
    "breaking in",
    "following me",
    "watching me",
]

ENGLISH: list[str] = [
    *(f"{who} {where}" for who in _EN_SUBJECTS for where in _EN_PLACES),
    # Danger now.
    "in danger",
    "im in danger",
    "not safe",
    "dont feel safe",
    "do not feel safe",
    "unsafe",
    "breaking in",
    "break in",
    "banging on the door",
    "kicking the door",
    "kicking my door",
    "following me",
    "stalking me",
    "has a knife",
    "got a knife",
    "with a knife",
    "has a gun",
    "got a gun",
    "help me he",
    "help me hes",
    "help me she",
    "help me they",
    "help me now",
    "help me please",
    "help me pls",
    "help me plz",
    "please help me",
    "pls help me",
    "plz help me",
    "sos",
    "call the police",
    "send someone",
    "send help",
    # Threats and violence.
    "kill me",
    "kil me",
    "killing me",
    "going to kill",
    "gonna kill",
    "threatening me",
    "threatened me",
    "threatening to",
    "threatened to",
    "threatning",
    "thretening",
    "threating me",
    "threats",
    "hurt me",
    "hurting me",
    "hit me",
    "hitting me",
    "beat me",
    "beating me",
    "attacked me",
    "attacking me",
    "strangled me",
    "choked me",
    # Fear.
    "im scared",
    "i am scared",
    "im so scared",
    "im really scared",
    "i am really scared",
    "im really frightened",
    "so scared",
    "really scared",
    "im terrified",
    "i am terrified",
    "im frightened",
    "i am frightened",
    "scared for my life",
    "afraid for my life",
    "scared he",
    "scared she",
    "afraid he",
    # Self-harm.
    "want to end it",
    "wanna end it",
    "end it all",
    "end it al",
    "end my life",
    "kill myself",
    "kill my self",
    "killmyself",
    "killing myself",
    "kms",
    "hurt myself",
    "hurting myself",
    "harm myself",
    "self harm",
    "selfharm",
    "suicide",
    "suicidal",
    "suicde",
    "take my own life",
    "dont want to live",
    "dont wanna live",
    "dont want to be here anymore",
    "no reason to live",
    "better off dead",
    "want to die",
    "wanna die",
    "overdose",
    "taken pills",
    "took pills",
    "taken tablets",
    "taken all my tablets",
    "taken all my pills",
    "took tablets",
    "swallowed pills",
    "swallowed tablets",
    # Someone in the house.
    "someone downstairs",
    "someone in the house",
    "someone in my house",
    "someone outside",
    "someone breaking in",
    "somebody downstairs",
    "somebody in the house",
    "hear someone",
    "heard someone",
]

# Southern and northern forms ("fe", "e" / "o"), mutations ("mygwth", "ladd") and
# mixed Welsh and English ("help fi") are all here: people write as they speak.
_CY_SUBJECTS = ["mae e", "mae o", "mae fe", "ma e", "ma fe", "ma o", "mae hi", "ma hi"]
_CY_PLACES = [
    "yma",
    "ma",
    "yna",
    "tu allan",
    "tu fas",
    "wrth y drws",
    "wrth y ffenest",
    "yn y ty",
    "yn y tŷ",
    "tu mewn",
    "yn trio dod mewn",
    "yn dilyn fi",
]

WELSH: list[str] = [
    *(f"{who} {where}" for who in _CY_SUBJECTS for where in _CY_PLACES),
    # Danger now.
    "mewn perygl",
    "dw i mewn perygl",
    "dwi mewn perygl",
    "rwy mewn perygl",
    "dim yn ddiogel",
    "ddim yn ddiogel",
    "help fi",
    "helpa fi",
    "helpwch fi",
    "helpu fi",
    "achub fi",
    "helpwch fi plis",
    "dilyn fi",
    "gyda chyllell",
    "efo cyllell",
    "cyllell gyda fe",
    "cyllell ganddo",
    # Threats and violence.
    "fy mygwth",
    "bygwth fi",
    "yn bygwth",
    "bygythiad",
    "bygythiadau",
    "lladd fi",
    "ladd fi",
    "fy lladd",
    "yn lladd i",
    "in lladd i",
    "brifo fi",
    "taro fi",
    "curo fi",
    "ymosod arna i",
    "ymosod arnaf",
    # Fear.
    "rwy'n ofnus",
    "rwyn ofnus",
    "dwi'n ofnus",
    "dw i'n ofnus",
    "rydw i'n ofnus",
    "dwi ofn",
    "dw i ofn",
    "ofn arna i",
    "ofn arnaf",
    "mae gen i ofn",
    "ofn am fy mywyd",
    # Self-harm.
    "lladd fy hun",
    "ladd fy hun",
    "lladd fy hunan",
    "ladd fy hunan",
    "niweidio fy hun",
    "brifo fy hun",
    "anafu fy hun",
    "hunanladdiad",
    "eisiau marw",
    "isio marw",
    "isie marw",
    "moyn marw",
    "dim eisiau byw",
    "ddim eisiau byw",
    "dim isio byw",
    "ddim isio byw",
    "diwedd ar y cyfan",
    "diwedd ar fy mywyd",
    "llyncu tabledi",
    "llyncu pils",
    "cymryd tabledi i gyd",
    "gorddos",
    # Someone breaking in or in the house.
    "torri mewn",
    "torri i mewn",
    "rhywun yn y ty",
    "rhywun yn y tŷ",
    "rhywun tu allan",
    "rhywun tu fas",
    "rhywun lawr staer",
    "rhywun lawr grisiau",
    "clywed rhywun",
    "ofn mawr",
]

# Normalised the same way as messages, so the lists above may be written naturally.
PHRASES: tuple[str, ...] = tuple(
    sorted({phrase for phrase in (normalise(p) for p in [*ENGLISH, *WELSH]) if phrase})
)


def danger_phrase(body: str) -> str | None:
    """The first danger phrase in `body` (as whole words), or None."""
    padded = f" {normalise(body)} "
    for phrase in PHRASES:
        if f" {phrase} " in padded:
            return phrase
    return None


def in_danger(body: str) -> bool:
    """Whether `body` has words of danger in English or Welsh."""
    return danger_phrase(body) is not None
