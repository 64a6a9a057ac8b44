"""The assistant's pure logic: staffed hours, preferences, answers (dates of birth:
tests/unit/test_identity.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from models import Channel, Language, Setting
from models.assessments import NeedsQuestion
from services.assistant import assessments, preferences, updates
from services.casework.protection import QuietHours
from services.console import staffing

LONDON = staffing.LONDON


def test_next_contact_open_closed_and_weekend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAFFED_HOURS", "Mon-Fri 08:00-18:00")
    friday_noon = dt.datetime(2026, 11, 27, 12, tzinfo=LONDON)
    assert staffing.next_contact(friday_noon, Language.EN) == (
        "The unit is open now, and an officer will contact you today before 18:00."
    )
    friday_night = dt.datetime(2026, 11, 27, 21, tzinfo=LONDON)
    assert "Monday 30 November at 08:00" in staffing.next_contact(friday_night, Language.EN)
    assert "dydd Llun 30 Tachwedd am 08:00" in staffing.next_contact(friday_night, Language.CY)
    thursday_night = dt.datetime(2026, 11, 26, 22, tzinfo=LONDON)
    assert "tomorrow at 08:00" in staffing.next_contact(thursday_night, Language.EN)
    # Christmas Day and Boxing Day 2026 (Friday, Monday 28th in lieu) are closed.
    christmas_eve = dt.datetime(2026, 12, 24, 19, tzinfo=LONDON)
    assert "Tuesday 29 December" in staffing.next_contact(christmas_eve, Language.EN)


def test_staffed_hours_are_checked() -> None:
    with pytest.raises(ValueError, match="STAFFED_HOURS"):
        staffing.parse("weekdays 9-5")
    assert staffing.parse("Mon-Fri 08:00-18:00, Sat 09:00-13:00")[1].weekdays == frozenset({5})


def test_preferences_parsed_from_free_text() -> None:
    changes = {c.setting: c.value for c in preferences.parse("bob wythnos ar WhatsApp")}
    assert changes == {Setting.FREQUENCY: 7, Setting.CHANNEL: Channel.WHATSAPP}
    changes = {c.setting: c.value for c in preferences.parse("no texts between 10pm and 7am")}
    assert changes == {Setting.QUIET_HOURS: QuietHours(dt.time(22), dt.time(7))}
    assert {c.setting for c in preferences.parse("turn off safe contact")} == {Setting.SAFE_CONTACT}
    assert preferences.parse("what is happening") == []


@pytest.mark.parametrize(
    ("text", "meaning"),
    [
        ("yes", "safe"),
        ("ydw diolch", "safe"),
        ("no", "not_safe"),
        ("nac ydw", "not_safe"),
        ("not sure tbh", "unsure"),
        ("ddim yn siŵr", "unsure"),
        ("hmm", None),
    ],
)
def test_feeling_safe_answers(text: str, meaning: str | None) -> None:
    assert assessments.interpret(NeedsQuestion.SAFE_NOW, text) == meaning


def test_control_words_are_whole_messages() -> None:
    assert assessments.control("Later!") is assessments.Control.LATER
    assert assessments.control("wedyn") is assessments.Control.LATER
    assert assessments.control("dim mwy") is assessments.Control.STOP
    assert assessments.control("nesaf") is assessments.Control.SKIP
    assert assessments.control("i'll tell you later what i need") is None


def test_case_choice() -> None:
    class Case:
        def __init__(self, ref: str) -> None:
            self.case_ref, self.crime_type = ref, "theft"

    cases = [Case("CR-1"), Case("CR-22")]
    assert updates.choose(cases, "2") is cases[1]  # type: ignore[arg-type]
    assert updates.choose(cases, "the cr-22 one") is cases[1]  # type: ignore[arg-type]
    assert updates.choose(cases, "3") is None  # type: ignore[arg-type]
