"""Case updates behind the date of birth: bot/actions/identity.py and bot/actions/updates.py."""

from __future__ import annotations

import asyncio
import datetime as dt

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from bot.actions import ActionAskUpdateCase, ActionCaseUpdate, ValidateUpdateForm
from models import CaseEvent, Conversation, EventType, Handoff, HandoffPriority, Language
from models.db import Database
from services.assistant.identity import LOCKED_REASON
from services.language.texts import text
from tests.support.actions import add_person, db, domain, run, slot_events, tracker
from tests.support.bot import response

__all__ = ["db"]


def _dob_answer(public_id: str, text: str, language: str = "en") -> list[dict[str, object]]:
    snapshot = tracker(
        public_id,
        text,
        slots={"language": language, "requested_slot": "update_dob", "update_dob": text},
        events=[
            {"event": "user", "text": text, "parse_data": {}, "timestamp": 1.0},
            {"event": "slot", "name": "update_dob", "value": text, "timestamp": 1.0},
        ],
        active_loop="update_form",
    )
    events, _ = run(ValidateUpdateForm(), snapshot)
    return events


def _required(public_id: str) -> list[str]:
    snapshot = tracker(public_id, active_loop="update_form")
    return asyncio.run(
        ValidateUpdateForm().required_slots(
            ["update_dob", "update_case"], CollectingDispatcher(), snapshot, domain()
        )
    )


def test_date_of_birth_is_required_then_verifies(db: Database) -> None:
    person = add_person(db)
    assert _required(person.public_id) == ["update_dob"]

    events = _dob_answer(person.public_id, "2nd March 1984")

    assert slot_events(events)["update_dob"] == "ok"
    assert slot_events(events)["requested_slot"] is None  # the form ends
    with db.session() as session:
        conversation = session.get_one(Conversation, person.conversation_id)
        assert conversation.verified_until is not None
        assert conversation.verified_until > dt.datetime.now(dt.UTC) + dt.timedelta(hours=23)
    assert _required(person.public_id) == []


def test_three_wrong_dates_lock_and_open_a_normal_handoff(db: Database) -> None:
    person = add_person(db)
    for attempt in range(2):
        snapshot_events = _dob_answer(person.public_id, f"0{attempt + 1}/01/1990")
        assert slot_events(snapshot_events)["update_dob"] is None
    events = _dob_answer(person.public_id, "01/01/1991")
    assert slot_events(events)["update_dob"] == "locked"
    assert _required(person.public_id) == []
    with db.session() as session:
        [handoff] = session.scalars(select(Handoff)).all()
        assert handoff.priority is HandoffPriority.NORMAL and handoff.reason == LOCKED_REASON
    # Even the right date is not checked until tomorrow: the form ends at once.
    after = slot_events(_dob_answer(person.public_id, "02/03/1984"))
    assert after["requested_slot"] is None and after.get("update_dob") != "ok"
    with db.session() as session:
        assert session.get_one(Conversation, person.conversation_id).verified_until is None
    _, texts = run(ActionCaseUpdate(), tracker(person.public_id, slots={"update_dob": "locked"}))
    assert texts == [response("utter_identity_locked", "en")]


def test_wrong_and_unreadable_dates_are_answered_in_welsh(db: Database) -> None:
    person = add_person(db, language=Language.CY)
    snapshot = tracker(
        person.public_id,
        "dunno",
        slots={"language": "cy", "requested_slot": "update_dob", "update_dob": "dunno"},
        events=[
            {"event": "user", "text": "dunno", "parse_data": {}, "timestamp": 1.0},
            {"event": "slot", "name": "update_dob", "value": "dunno", "timestamp": 1.0},
        ],
        active_loop="update_form",
    )
    dispatcher = CollectingDispatcher()
    result = ValidateUpdateForm().validate_update_dob("dunno", dispatcher, snapshot, domain())
    assert result == {"update_dob": None}
    assert [m["text"] for m in dispatcher.messages] == [response("utter_dob_unreadable", "cy")]
    dispatcher = CollectingDispatcher()
    ValidateUpdateForm().validate_update_dob("3 Ebrill 1970", dispatcher, snapshot, domain())
    assert [m["text"] for m in dispatcher.messages] == [response("utter_dob_wrong", "cy")]


def test_verified_update_gives_events_officer_and_next_update(db: Database) -> None:
    person = add_person(db, language=Language.CY)
    with db.session() as session:
        session.add(
            CaseEvent(
                case_id=person.case_id,
                type=EventType.SUSPECT_ARRESTED,
                occurred_at=dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC),
                summary="A man was arrested.",
                summary_cy="Cafodd dyn ei arestio.",
            )
        )
    _dob_answer(person.public_id, "02/03/1984", "cy")
    events, texts = run(
        ActionCaseUpdate(), tracker(person.public_id, slots={"language": "cy", "update_dob": "ok"})
    )
    [text] = texts
    assert "CR-UNIT-1" in text and "Cafodd dyn ei arestio." in text
    assert "PC Ifan Rees" in text and "Y swyddog sy'n gyfrifol" in text
    assert "20 Tachwedd" in text
    assert slot_events(events)["update_dob"] is None


def test_several_cases_ask_which_one(db: Database) -> None:
    person = add_person(db, case_refs=("CR-UNIT-1", "CR-UNIT-2"))
    _dob_answer(person.public_id, "02/03/1984")
    assert _required(person.public_id) == ["update_case"]
    _, texts = run(ActionAskUpdateCase(), tracker(person.public_id))
    assert "1) CR-UNIT-1" in texts[0] and "2) CR-UNIT-2" in texts[0]
    snapshot = tracker(person.public_id, "2", active_loop="update_form")
    result = ValidateUpdateForm().validate_update_case(
        "the 2nd one", CollectingDispatcher(), snapshot, domain()
    )
    assert result == {"update_case": "CR-UNIT-2"}
    _, texts = run(
        ActionCaseUpdate(), tracker(person.public_id, slots={"update_case": "CR-UNIT-2"})
    )
    assert texts[0].startswith("Your case CR-UNIT-2: there is no news yet.")


def test_danger_during_the_identity_check_comes_first_but_a_date_is_a_date(
    db: Database,
) -> None:
    person = add_person(db)
    form = ValidateUpdateForm()
    snapshot = tracker(
        person.public_id, "help hes here", "report_danger", active_loop="update_form"
    )
    dispatcher = CollectingDispatcher()
    result = form.validate_update_dob("help hes here", dispatcher, snapshot, domain())
    assert result == {"update_dob": None, "form_halt": "danger"}
    assert [m["text"] for m in dispatcher.messages] == [text("danger", Language.EN)]
    with db.session() as session:
        [handoff] = session.scalars(select(Handoff)).all()
        assert handoff.priority is HandoffPriority.URGENT
    _, texts = run(ActionCaseUpdate(), tracker(person.public_id, slots={"form_halt": "danger"}))
    assert texts == []
    # The model may take a date for danger; a date of birth asked for is checked as one.
    snapshot = tracker(person.public_id, "2/3/84", "report_danger", active_loop="update_form")
    dispatcher = CollectingDispatcher()
    assert form.validate_update_dob("2/3/84", dispatcher, snapshot, domain()) == {
        "update_dob": "ok"
    }
    assert dispatcher.messages == []
