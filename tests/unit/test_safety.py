"""The danger safety net: every danger phrasing is caught; ordinary messages are not."""

from __future__ import annotations

import pytest

from models.handoffs import HandoffStatus, IllegalHandoffMove, may_move
from services.conversations.safety import PHRASES, danger_phrase, in_danger
from services.language.phrases import normalise

DANGER_EN = [
    "he's here",
    "HES HERE!!",
    "hes outside",
    "he is at the door",
    "He’s at my door right now",
    "hez outsid pls",
    "she's outside my house",
    "they're trying to get in",
    "he's going to kill me",
    "hes gonna kill me",
    "he's threatening me",
    "he keeps thretening me",
    "help me he is coming",
    "Help me, he's back",
    "I'm scared he'll hurt me",
    "im so scared",
    "I'm in danger",
    "i dont feel safe",
    "he has a knife",
    "I want to end it",
    "wanna end it all",
    "I'm going to kill myself",
    "i want to kill my self",
    "I keep wanting to hurt myself",
    "thinking about suicide",
    "i dont want to live anymore",
    "please help me",
    "someone is banging on the door",
    "he's following me",
    "KMS",
]

DANGER_CY = [
    "mae e yma",
    "Mae o yma!!",
    "mae e tu allan",
    "ma fe tu fas",
    "mae o wrth y drws",
    "dw i mewn perygl",
    "dwi mewn perygl",
    "rwy'n ofnus",
    "Rwy’n ofnus iawn",
    "rwyn ofnus",
    "mae'n fy mygwth",
    "mae e'n bygwth fi",
    "dw i eisiau lladd fy hun",
    "isio ladd fy hun",
    "help fi",
    "helpwch fi plis",
    "mae o'n mynd i ladd fi",
    "mae gen i ofn",
    "dwi isio marw",
    "mae e yn y tŷ",
    "MAE E YN Y TY",
]

ORDINARY = [
    "is he still in custody",
    "thanks for the help",
    "the hearing is here in Cardiff",
    "the shelter is here",
    "can you help me with my case",
    "when is the court date",
    "I'd like an update please",
    "hello",
    "yes",
    "he has been charged",
    "the officer said he is in prison",
    "my daughter is here with me",
    "what are my rights",
    "here is my date of birth 02/03/1984",
    "can I speak to my officer",
    "is he a danger to the public",
    "outside office hours who do I call",
    "she helped me a lot",
    "the help line was useful",
    "I want to make a complaint",
    "the door was fixed",
    "his sister is here",
    "shelter here",
    "diolch am yr help",
    "ydy e dal yn y ddalfa",
    "mae'r gwrandawiad yma yng Nghaerdydd",
    "mae hi'n braf yma",
    "dwi eisiau diweddariad",
    "ga i siarad â swyddog heddlu",
    "beth yw fy hawliau",
    "shwmae",
]


# Missed by the first net and by the model on the held-out NLU split (docs/NLU.md).
MISSED_ONCE = [
    "i'm really scared",
    "i can hear someone downstairs",
    "mae rhywun yn torri mewn",
    "dw i wedi llyncu tabledi",
    "I've taken all my tablets",
]


@pytest.mark.parametrize("body", DANGER_EN + DANGER_CY + MISSED_ONCE)
def test_danger_phrasings_match(body: str) -> None:
    assert in_danger(body), body


def test_recall_on_the_danger_list_is_one() -> None:
    missed = [b for b in DANGER_EN + DANGER_CY if not in_danger(b)]
    assert missed == []


@pytest.mark.parametrize("body", ORDINARY)
def test_ordinary_messages_do_not_match(body: str) -> None:
    assert danger_phrase(body) is None


def test_normalise_folds_case_accents_apostrophes_and_punctuation() -> None:
    assert normalise("  HE’S   at the DOOR!!! ") == "hes at the door"
    assert normalise("Rŵan, â'r tŷ?") == "rwan ar ty"
    assert normalise("ＨＥＬＰ") == "help"  # full-width letters, via NFKD


def test_phrases_are_normalised_and_not_empty() -> None:
    assert PHRASES and all(p == normalise(p) and p for p in PHRASES)


def test_handoff_moves() -> None:
    assert may_move(HandoffStatus.OPEN, HandoffStatus.CLAIMED)
    assert may_move(HandoffStatus.CLAIMED, HandoffStatus.CLOSED)
    assert not may_move(HandoffStatus.CLOSED, HandoffStatus.OPEN)
    assert issubclass(IllegalHandoffMove, ValueError)
