"""Leaving a question by asking for something else: support, an officer, or 999.

A victim in the middle of a form (the date of birth, the needs questionnaire, what to
change) must always be able to ask for help instead of answering (docs/SAFETY.md, "Never
silent"). Danger words are dealt with before the bot (services/conversations/safety.py);
this is the rest: a plain request, in English or Welsh. A request is read from the words
(whole words, normalised as everywhere: services/language/phrases.py), and, where a form's
answers are not free text, from the model's intent too.
"""

from __future__ import annotations

import enum

from services.language import phrases


class Leave(enum.StrEnum):
    """What a victim asked for instead of answering; the first that matches wins."""

    EMERGENCY = "emergency"
    OFFICER = "officer"
    SUPPORT = "support"


# The model's intents that mean the same, where a form's answers are not free text.
INTENTS = {"talk_to_officer": Leave.OFFICER, "request_support": Leave.SUPPORT}
# The model's confidence below which its intent alone does not take a victim out of a form.
INTENT_CONFIDENCE = 0.5

PHRASES: dict[Leave, tuple[str, ...]] = {
    Leave.EMERGENCY: (
        "999",
        "call 999",
        "ring 999",
        "phone 999",
        "dial 999",
        "emergency",
        "it's an emergency",
        "ambulance",
        "i need the police",
        "need the police now",
        "police now",
        "send the police",
        "ffonio 999",
        "ffonia 999",
        "argyfwng",
        "mae'n argyfwng",
        "ambiwlans",
        "angen yr heddlu",
        "heddlu nawr",
        "heddlu rwan",
        "ffonio'r heddlu",
    ),
    Leave.OFFICER: (
        "speak to an officer",
        "talk to an officer",
        "speak with an officer",
        "speak to a police officer",
        "talk to a police officer",
        "speak to my officer",
        "talk to my officer",
        "speak to the officer",
        "contact my officer",
        "i want an officer",
        "i need an officer",
        "officer please",
        "officer pls",
        "speak to someone",
        "talk to a person",
        "speak to a person",
        "a real person",
        "speak to a human",
        "siarad â swyddog",
        "siarad gyda swyddog",
        "siarad efo swyddog",
        "siarad hefo swyddog",
        "siarad â fy swyddog",
        "siarad gyda fy swyddog",
        "siarad efo fy swyddog",
        "siarad â'r swyddog",
        "siarad â rhywun",
        "siarad gyda rhywun",
        "siarad efo rhywun",
        "isio swyddog",
        "eisiau swyddog",
        "angen swyddog",
        "swyddog plis",
        "person go iawn",
    ),
    Leave.SUPPORT: (
        "i need support",
        "need support",
        "need some support",
        "want support",
        "support please",
        "i need help",
        "need some help",
        "i want help",
        "get help",
        "victim support",
        "support services",
        "helpline",
        "counselling",
        "angen cymorth",
        "isio cymorth",
        "eisiau cymorth",
        "moyn cymorth",
        "cymorth plis",
        "angen help",
        "isio help",
        "eisiau help",
        "angen cefnogaeth",
        "eisiau cefnogaeth",
        "llinell gymorth",
        "cymorth i ddioddefwyr",
    ),
}
# "It is not an emergency, but ..." asks for no 999.
_NOT_EMERGENCY = (
    "not an emergency",
    "no emergency",
    "isn't an emergency",
    "not urgent",
    "nid yw'n argyfwng",
    "nid argyfwng",
    "dim yn argyfwng",
    "ddim yn argyfwng",
)


_AN_OFFICER = ("officer", "officers", "police", "swyddog", "heddwas", "plismon", "plismones")


def names_an_officer(text: str) -> bool:
    """Whether the message asks for an officer by name ("an officer", "swyddog"), not just
    for someone to talk to (which, to "which support would help?", is an answer)."""
    return phrases.contains(text, _AN_OFFICER)


def asked(text: str, intent: str | None = None, confidence: float = 0.0) -> Leave | None:
    """What `text` asks for instead of an answer, or None.

    `intent` and `confidence` are the model's reading; pass them only where an answer is
    never free text (a free-text answer may well be about support without asking for it).
    """
    for leave, words in PHRASES.items():
        if leave is Leave.EMERGENCY and phrases.contains(text, _NOT_EMERGENCY):
            continue
        if phrases.contains(text, words):
            return leave
    if intent in INTENTS and confidence >= INTENT_CONFIDENCE:
        return INTENTS[intent]
    return None
