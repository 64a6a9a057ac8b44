"""Preferences, language switching and the fallback: bot/actions/preferences.py,
language.py and fallback.py."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from bot.actions import (
    ActionChangePreferences,
    ActionFallback,
    ActionSwitchLanguage,
    ValidatePreferencesForm,
)
from models import (
    AuditAction,
    AuditEvent,
    Channel,
    Handoff,
    HandoffPriority,
    Language,
    RequestStatus,
    Setting,
    SettingRequest,
    Victim,
)
from models.db import Database
from services.casework import protection
from services.settings import Settings
from tests.support.actions import (
    add_person,
    arrives,
    ask_dob,
    db,
    domain,
    rules,
    run,
    slot_events,
    tracker,
    verify,
)
from tests.support.bot import response

__all__ = ["db", "rules"]


def _victim(db: Database, victim_id: int) -> Victim:
    with db.session() as session:
        return session.get_one(Victim, victim_id)


def _audit(db: Database, action: AuditAction) -> list[AuditEvent]:
    with db.session() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _handoffs(db: Database) -> list[Handoff]:
    with db.session() as session:
        return list(session.scalars(select(Handoff).order_by(Handoff.id)))


def _required(public_id: str, pref_text: str | None, dob: str | None = None) -> list[str]:
    snapshot = tracker(
        public_id,
        slots={"pref_text": pref_text, "identity_dob": dob},
        active_loop="preferences_form",
    )
    return asyncio.run(
        ValidatePreferencesForm().required_slots(
            ["pref_text", "identity_dob"], CollectingDispatcher(), snapshot, domain()
        )
    )


def test_raising_protection_is_done_at_once_and_audited(db: Database) -> None:
    person = add_person(db)
    _, texts = run(
        ActionChangePreferences(),
        tracker(
            person.public_id,
            "only every 6 weeks please, no messages between 7pm and 9am, safe contact on",
        ),
    )
    victim = _victim(db, person.victim_id)
    assert victim.update_every_days == 42
    assert (victim.quiet_start, victim.quiet_end) == (dt.time(19, 0), dt.time(9, 0))
    assert victim.safe_contact is True
    assert texts == [
        response("utter_pref_frequency", "en").format(days=42),
        response("utter_pref_quiet_hours", "en").format(start="19:00", end="09:00"),
        response("utter_pref_safe_on", "en"),
    ]
    changes = _audit(db, AuditAction.CHANGE_SETTING)
    assert {e.detail for e in changes} == {
        "frequency: every 28 days -> every 42 days",
        "quiet_hours: 20:00-08:00 -> 19:00-09:00",
        "safe_contact: off -> on",
    }
    assert {(e.actor, e.victim_id, e.conversation_id) for e in changes} == {
        ("victim by sms", person.victim_id, person.conversation_id)
    }
    assert _handoffs(db) == []  # raising protection tells nobody


def test_safe_contact_in_welsh(db: Database) -> None:
    person = add_person(db, language=Language.CY)
    _, texts = run(
        ActionChangePreferences(),
        tracker(person.public_id, "cyswllt diogel plis", slots={"language": "cy"}),
    )
    assert _victim(db, person.victim_id).safe_contact is True
    assert texts == [response("utter_pref_safe_on", "cy")]


LOWERING = [
    ("turn off safe contact", "en"),
    ("diffodd cyswllt diogel", "cy"),
    ("use whatsapp instead", "en"),
    ("defnyddiwch WhatsApp plis", "cy"),
    ("text me every day", "en"),
    ("diweddariad bob dydd", "cy"),
    ("no messages after 11pm", "en"),
    ("dim negeseuon ar ol 11yh", "cy"),
    ("messages between 10pm and 6am are fine", "en"),
]


@pytest.mark.parametrize(("said", "language"), LOWERING)
def test_lowering_protection_asks_for_the_date_of_birth_first(
    db: Database, rules: Settings, said: str, language: str
) -> None:
    person = add_person(db, language=Language(language))
    before = _victim(db, person.victim_id)
    if "safe contact" in said or "cyswllt" in said:
        with db.session() as session:
            session.get_one(Victim, person.victim_id).safe_contact = True
    events, texts = run(
        ActionChangePreferences(), tracker(person.public_id, said, slots={"language": language})
    )
    # Nothing changed, nothing said back: the form asks for the date of birth.
    assert texts == []
    assert SlotSet("pref_text", said) in events and FollowupAction("preferences_form") in events
    after = _victim(db, person.victim_id)
    for column in ("update_every_days", "quiet_start", "quiet_end", "channel"):
        assert getattr(after, column) == getattr(before, column)
    assert _audit(db, AuditAction.CHANGE_SETTING) == []
    assert _required(person.public_id, said) == ["pref_text", "identity_dob"]
    assert ask_dob(person, "preferences_form", language) == [
        response("utter_ask_dob_for_change", language)
    ]

    # The right date of birth, checked by the service as it arrives: then the change.
    arrives(person, "02/03/1984", rules)
    assert _required(person.public_id, said) == ["pref_text"]
    _, texts = run(
        ActionChangePreferences(),
        tracker(
            person.public_id,
            "[date of birth given]",
            slots={"pref_text": said, "language": language},
        ),
    )
    assert response("utter_pref_officer_told", language) in texts or (
        texts == [response("utter_pref_safe_off_pending", language)]
    )
    [handoff] = _handoffs(db)
    assert handoff.priority is HandoffPriority.NORMAL


@pytest.mark.parametrize("typed", ["ok", "yes", "locked", "affirm", "[date of birth given]"])
def test_no_typed_answer_lets_a_lowering_through(db: Database, typed: str) -> None:
    person = add_person(db)
    ask_dob(person, "preferences_form")
    snapshot = tracker(
        person.public_id,
        typed,
        slots={
            "pref_text": "use whatsapp",
            "requested_slot": "identity_dob",
            "identity_dob": typed,
        },
        events=[
            {"event": "user", "text": typed, "parse_data": {}, "timestamp": 1.0},
            {"event": "slot", "name": "identity_dob", "value": typed, "timestamp": 1.0},
        ],
        active_loop="preferences_form",
    )
    events, texts = run(ValidatePreferencesForm(), snapshot)
    assert texts == [response("utter_dob_unreadable", "en")]
    assert _required(person.public_id, "use whatsapp") == ["pref_text", "identity_dob"]
    _, texts = run(
        ActionChangePreferences(),
        tracker(person.public_id, typed, slots={"pref_text": "use whatsapp"}),
    )
    assert _victim(db, person.victim_id).channel is Channel.SMS
    assert response("utter_pref_channel_whatsapp", "en") not in texts


def test_safe_contact_off_waits_for_an_officer_and_on_again_withdraws_it(
    db: Database, rules: Settings
) -> None:
    person = add_person(db)
    with db.session() as session:
        session.get_one(Victim, person.victim_id).safe_contact = True
    verify(person, rules)
    _, texts = run(ActionChangePreferences(), tracker(person.public_id, "safe contact off"))
    assert texts == [response("utter_pref_safe_off_pending", "en")]
    assert _victim(db, person.victim_id).safe_contact is True  # until an officer confirms
    with db.session() as session:
        [request] = session.scalars(select(SettingRequest)).all()
        assert (request.setting, request.value, request.status) == (
            Setting.SAFE_CONTACT,
            "off",
            RequestStatus.PENDING,
        )
    [handoff] = _handoffs(db)
    assert handoff.reason == protection.SAFE_CONTACT_OFF_REASON
    [asked] = _audit(db, AuditAction.REQUEST_SETTING)
    assert asked.actor == "victim by sms"
    # Asking again adds nothing; turning it on again withdraws the request.
    run(ActionChangePreferences(), tracker(person.public_id, "turn off safe contact"))
    run(ActionChangePreferences(), tracker(person.public_id, "safe contact on"))
    with db.session() as session:
        [request] = session.scalars(select(SettingRequest)).all()
        assert request.status is RequestStatus.WITHDRAWN
    assert len(_audit(db, AuditAction.WITHDRAW_SETTING)) == 1


def test_a_locked_check_refuses_lowering_but_not_raising(db: Database, rules: Settings) -> None:
    person = add_person(db)
    for guess in ("1/1/1990", "2/1/1990", "3/1/1990"):
        ask_dob(person)
        arrives(person, guess, rules)
    events, texts = run(
        ActionChangePreferences(), tracker(person.public_id, "whatsapp please, and weekly")
    )
    assert texts == [response("utter_pref_locked", "en")]
    assert FollowupAction("preferences_form") not in events
    victim = _victim(db, person.victim_id)
    assert (victim.channel, victim.update_every_days) == (Channel.SMS, 28)
    _, texts = run(ActionChangePreferences(), tracker(person.public_id, "safe contact on"))
    assert texts == [response("utter_pref_safe_on", "en")]


def test_unclear_request_asks_what_to_change_then_says_so(db: Database) -> None:
    person = add_person(db)
    events, texts = run(ActionChangePreferences(), tracker(person.public_id, "change my settings"))
    assert events == [FollowupAction("preferences_form")] and texts == []
    events, texts = run(
        ActionChangePreferences(),
        tracker(person.public_id, "hmm", slots={"pref_text": "something else"}),
    )
    assert texts == [response("utter_pref_not_understood", "en")]
    assert SlotSet("pref_text", None) in events


def test_switching_language_is_stored_and_answered_in_the_new_one(db: Database) -> None:
    person = add_person(db)
    events, texts = run(
        ActionSwitchLanguage(),
        tracker(
            person.public_id,
            "yn Gymraeg os gwelwch yn dda",
            "switch_language",
            entities=[{"entity": "language", "value": "cy"}],
        ),
    )
    assert texts == [response("utter_language_switched", "cy")]
    assert slot_events(events)["language"] == "cy"
    assert _victim(db, person.victim_id).language is Language.CY
    # Anyone may switch (docs/SAFETY.md), and it is audited like any other change.
    [switched] = _audit(db, AuditAction.CHANGE_SETTING)
    assert (switched.actor, switched.detail) == ("victim by sms", "language: en -> cy")
    # Without an entity: the words, and else the other language.
    run(
        ActionSwitchLanguage(),
        tracker(person.public_id, "English please", slots={"language": "cy"}),
    )
    assert _victim(db, person.victim_id).language is Language.EN
    events, _ = run(ActionSwitchLanguage(), tracker(person.public_id, "newid iaith"))
    assert slot_events(events)["language"] == "cy"


def test_first_fallback_rephrases_and_second_in_a_row_offers_an_officer(db: Database) -> None:
    person = add_person(db)
    first = [{"event": "user", "text": "qwe", "parse_data": {}, "timestamp": 1.0}]
    events, texts = run(ActionFallback(), tracker(person.public_id, "qwe", events=first))
    assert texts == [response("utter_default", "en")]
    second = [
        *first,
        {"event": "action", "name": "action_fallback", "timestamp": 2.0},
        {"event": "action", "name": "action_listen", "timestamp": 3.0},
        {"event": "user", "text": "zxc", "parse_data": {}, "timestamp": 4.0},
    ]
    events, texts = run(ActionFallback(), tracker(person.public_id, "zxc", events=second))
    assert texts == [response("utter_default_offer_officer", "en")]
    assert slot_events(events)["pending_question"] == "officer"


def test_a_rights_detail_word_alone_is_answered_even_when_not_understood(db: Database) -> None:
    person = add_person(db, language=Language.CY)
    _, texts = run(
        ActionFallback(),
        tracker(person.public_id, "ADFEROL", "nlu_fallback", slots={"language": "cy"}),
    )
    assert texts == [response("utter_rights_restorative", "cy")]


def test_safe_contact_off_when_it_is_off_already_says_so(db: Database) -> None:
    person = add_person(db)
    _, texts = run(ActionChangePreferences(), tracker(person.public_id, "safe contact off"))
    assert texts == [response("utter_pref_safe_off", "en")]
    assert _handoffs(db) == []
