"""Every response of the assistant exists in English and Welsh, as plain, short text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

DOMAIN = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "bot" / "domain.yml").read_text(encoding="utf-8")
)
RESPONSES = DOMAIN["responses"]
# Characters Welsh needs that a keyboard without them might drop.
WELSH_ACCENTED = set("âêîôûŵŷáéíóúàèìòùäëïöü")
SMS_MAX, AIM = 1600, 320
# Responses over the aim, with the reason (still far under the hard limit).
LONGER = {"utter_complaint"}


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_response_has_english_and_welsh_plain_and_short(name: str) -> None:
    variations = RESPONSES[name]
    welsh = [
        v
        for v in variations
        if v.get("condition") == [{"type": "slot", "name": "language", "value": "cy"}]
    ]
    english = [v for v in variations if not v.get("condition")]
    assert len(welsh) == 1 and len(english) == 1 and len(variations) == 2
    for variation in variations:
        text = variation["text"]
        assert set(variation) <= {"text", "condition"}, "no buttons, images or custom payloads"
        assert not re.search(r"\*\*|__|\[[^\]]*\]\(|^#|`", text), "plain text, no markdown"
        assert len(text) <= SMS_MAX
        if name not in LONGER:
            assert len(text) <= AIM, f"{name}: {len(text)} characters"
    assert welsh[0]["text"] != english[0]["text"]


def test_welsh_keeps_its_diacritics() -> None:
    welsh = " ".join(
        v["text"] for variations in RESPONSES.values() for v in variations if v.get("condition")
    )
    assert WELSH_ACCENTED & set(welsh), "Welsh responses with their accents (â, ŵ, ...)"
    # Words that are wrong Welsh without their accent.
    for bare in (" a chi.", "siwr)", "Croeso nol"):
        assert bare not in welsh
    assert "â chi" in welsh
