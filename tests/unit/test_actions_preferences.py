"""Preferences, language switching and the fallback: bot/actions/preferences.py,
language.py and fallback.py."""

from __future__ import annotations

import datetime as dt

from rasa_sdk.events import FollowupAction, SlotSet

from bot.actions import ActionChangePreferences, ActionFallback, ActionSwitchLanguage
from models import Channel, Language, Victim
from models.db import Database
from tests.support.actions import add_person, db, run, slot_events, tracker
from tests.support.bot import response

__all__ = ["db"]


def _victim(db: Database, victim_id: int) -> Victim:
    with db.session() as session:
        return session.get_one(Victim, victim_id)


def test_each_change_is_stored_and_confirmed(db: Database) -> None:
    person = add_person(db)
    _, texts = run(
        ActionChangePreferences(),
        tracker(person.public_id, "can u msg me every 2 weeks on whatsapp, not after 9pm"),
    )
    victim = _victim(db, person.victim_id)
    assert victim.update_every_days == 14
    assert (victim.quiet_start, victim.quiet_end) == (dt.time(21, 0), dt.time(8, 0))
    assert victim.channel is Channel.WHATSAPP
    assert texts == [
        response("utter_pref_frequency", "en").format(days=14),
        response("utter_pref_quiet_hours", "en").format(start="21:00", end="08:00"),
        response("utter_pref_channel_whatsapp", "en"),
    ]


def test_safe_contact_in_welsh(db: Database) -> None:
    person = add_person(db, language=Language.CY)
    _, texts = run(
        ActionChangePreferences(),
        tracker(person.public_id, "cyswllt diogel plis", slots={"language": "cy"}),
    )
    assert _victim(db, person.victim_id).safe_contact is True
    assert texts == [response("utter_pref_safe_on", "cy")]


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
