"""The rules of protection (services/casework/protection.py), leaving a question
(services/assistant/leaving.py) and what Rasa is given of a victim's words
(services/conversations/processing.for_rasa): pure logic, no database."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from models import Channel, Language, Setting, Victim
from services.assistant.leaving import Leave, asked
from services.casework import protection
from services.casework.protection import Effect, QuietHours
from services.conversations.processing import for_rasa


def _victim(**settings: Any) -> Victim:
    values: dict[str, Any] = {
        "channel": Channel.SMS,
        "language": Language.EN,
        "safe_contact": False,
        "enhanced_rights": False,
        "update_every_days": 28,
        "quiet_start": dt.time(20, 0),
        "quiet_end": dt.time(8, 0),
    }
    return Victim(**(values | settings))


def _quiet(start: int, end: int) -> QuietHours:
    return QuietHours(dt.time(start), dt.time(end))


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        (Setting.SAFE_CONTACT, True, Effect.RAISES),
        (Setting.SAFE_CONTACT, False, Effect.SAME),
        (Setting.ENHANCED_RIGHTS, True, Effect.RAISES),
        (Setting.FREQUENCY, 42, Effect.RAISES),
        (Setting.FREQUENCY, 7, Effect.LOWERS),  # more frequent contact
        (Setting.FREQUENCY, 28, Effect.SAME),
        (Setting.QUIET_HOURS, _quiet(19, 9), Effect.RAISES),  # covers 20:00-08:00
        (Setting.QUIET_HOURS, _quiet(21, 8), Effect.LOWERS),  # shorter
        (Setting.QUIET_HOURS, _quiet(22, 10), Effect.LOWERS),  # moved: 20:00-22:00 lost
        (Setting.QUIET_HOURS, _quiet(0, 0), Effect.LOWERS),  # none at all
        (Setting.CHANNEL, Channel.WHATSAPP, Effect.LOWERS),  # another channel
        (Setting.LANGUAGE, Language.CY, Effect.NEUTRAL),
    ],
)
def test_what_lowers_protection(setting: Setting, value: Any, expected: Effect) -> None:
    assert protection.effect(_victim(), setting, value) is expected


def test_safe_contact_off_lowers_and_whatsapp_to_sms_is_another_channel_too() -> None:
    assert protection.effect(_victim(safe_contact=True), Setting.SAFE_CONTACT, False) is (
        Effect.LOWERS
    )
    assert protection.effect(_victim(channel=Channel.WHATSAPP), Setting.CHANNEL, Channel.SMS) is (
        Effect.LOWERS
    )
    assert protection.effect(_victim(enhanced_rights=True), Setting.ENHANCED_RIGHTS, False) is (
        Effect.LOWERS
    )


def test_quiet_hours_wrap_midnight_and_equal_ends_mean_none() -> None:
    assert len(_quiet(20, 8).minutes()) == 12 * 60
    assert _quiet(0, 0).minutes() == frozenset()
    assert _quiet(19, 9).covers(_quiet(20, 8)) and not _quiet(20, 8).covers(_quiet(19, 9))
    assert _quiet(13, 14).covers(_quiet(0, 0))


@pytest.mark.parametrize(
    ("setting", "old", "new", "kept"),
    [
        (Setting.SAFE_CONTACT, False, True, True),
        (Setting.SAFE_CONTACT, True, False, True),  # only goes up through registration
        (Setting.ENHANCED_RIGHTS, True, False, True),
        (Setting.ENHANCED_RIGHTS, False, True, True),
        (Setting.FREQUENCY, 28, 7, 28),
        (Setting.FREQUENCY, 14, 28, 28),
        (Setting.QUIET_HOURS, _quiet(20, 8), _quiet(19, 9), _quiet(19, 9)),
        (Setting.QUIET_HOURS, _quiet(20, 8), _quiet(22, 6), _quiet(20, 8)),
        (Setting.CHANNEL, Channel.SMS, Channel.WHATSAPP, Channel.SMS),
        (Setting.LANGUAGE, Language.CY, Language.EN, Language.CY),
    ],
)
def test_registration_keeps_the_stricter(setting: Setting, old: Any, new: Any, kept: Any) -> None:
    assert protection.stricter(setting, old, new) == kept


@pytest.mark.parametrize(
    ("text", "leave"),
    [
        ("dw i angen cymorth", Leave.SUPPORT),
        ("I need support", Leave.SUPPORT),
        ("isio help plis", Leave.SUPPORT),
        ("can I speak to an officer", Leave.OFFICER),
        ("ga i siarad â swyddog", Leave.OFFICER),
        ("dwi isio siarad efo swyddog", Leave.OFFICER),
        ("999", Leave.EMERGENCY),
        ("I need an ambulance", Leave.EMERGENCY),
        ("mae'n argyfwng", Leave.EMERGENCY),
        ("ffonio 999", Leave.EMERGENCY),
        # "not an emergency" asks for no 999, but for the help that follows.
        ("it's not an emergency but I need help", Leave.SUPPORT),
        ("nid yw'n argyfwng ond dw i angen siarad â swyddog", Leave.OFFICER),
        ("emotional", None),
        ("whatsapp every week", None),
        ("ok", None),
    ],
)
def test_asking_for_something_else(text: str, leave: Leave | None) -> None:
    assert asked(text) is leave


def test_the_model_counts_only_when_sure() -> None:
    assert asked("hmm", "request_support", 0.9) is Leave.SUPPORT
    assert asked("hmm", "talk_to_officer", 0.3) is None
    assert asked("hmm", "greet", 0.99) is None


@pytest.mark.parametrize(
    ("body", "given"),
    [
        ("/affirm", "affirm"),
        ('/inform{"verified": true}', 'inform{"verified": true}'),
        ("  //restart", "restart"),
        ("/ /session_start", "session_start"),
        ("hello /affirm", "hello /affirm"),
        # No date reaches Rasa, the victim's or not: no reply can tell one from another.
        ("2/3/84", "[date of birth given]"),
        ("1/1/1990", "[date of birth given]"),
        ("court is on 5/6/2027", "court is on [date of birth given]"),
    ],
)
def test_rasa_never_reads_a_victims_words_as_an_intent_nor_a_date(body: str, given: str) -> None:
    assert for_rasa(body, dt.date(2026, 11, 27)) == given
