"""Case updates behind the date of birth: bot/actions/identity.py and bot/actions/updates.py.

The date never reaches these actions: the web app checks it as it arrives and the bot gets
"[date of birth given]" (services/identity). `_answer` plays that part, then runs the form's
validation as the action server would.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from bot.actions import (
    ActionAskUpdateCase,
    ActionCaseUpdate,
    ValidateUpdateForm,
)
from models import CaseEvent, Conversation, EventType, Handoff, HandoffPriority, Language, utcnow
from models.db import Database
from services.identity import dates
from services.identity.verification import LOCKED_REASON
from services.language.texts import text
from services.settings import Settings
from tests.support.actions import (
    Person,
    add_person,
    arrives,
    ask_dob,
    db,
    domain,
    rules,
    run,
    slot_events,
    tracker,
)
from tests.support.bot import response

__all__ = ["db", "rules"]


def _validate(
    person: Person, said: str, language: str = "en", intent: str | None = None
) -> tuple[dict[str, Any], list[str]]:
    """The update form's validation of the turn that answers the date-of-birth question."""
    snapshot = tracker(
        person.public_id,
        said,
        intent,
        slots={"language": language, "requested_slot": "identity_dob", "identity_dob": said},
        events=[
            {"event": "user", "text": said, "parse_data": {}, "timestamp": 1.0},
            {"event": "slot", "name": "identity_dob", "value": said, "timestamp": 1.0},
        ],
        active_loop="update_form",
    )
    events, texts = run(ValidateUpdateForm(), snapshot)
    return slot_events(events), texts


def _answer(
    person: Person, body: str, rules: Settings, language: str = "en", intent: str | None = None
) -> tuple[dict[str, Any], list[str]]:
    ask_dob(person, language=language)
    return _validate(person, arrives(person, body, rules), language, intent)


def _required(public_id: str) -> list[str]:
    snapshot = tracker(public_id, active_loop="update_form")
    return asyncio.run(
        ValidateUpdateForm().required_slots(
            ["identity_dob", "update_case"], CollectingDispatcher(), snapshot, domain()
        )
    )


def test_date_of_birth_is_required_then_verifies(db: Database, rules: Settings) -> None:
    person = add_person(db)
    assert _required(person.public_id) == ["identity_dob"]
    assert ask_dob(person) == [response("utter_ask_update_dob", "en")]
    with db.session() as session:
        assert session.get_one(Conversation, person.conversation_id).dob_asked_at is not None

    slots, texts = _validate(person, arrives(person, "2nd March 1984", rules))

    assert texts == [] and slots["identity_dob"] is None
    assert slots["requested_slot"] is None  # one case: the form ends
    with db.session() as session:
        conversation = session.get_one(Conversation, person.conversation_id)
        assert conversation.verified_until is not None
        assert conversation.verified_until <= utcnow() + dt.timedelta(minutes=60)
        assert conversation.dob_asked_at is None
    assert _required(person.public_id) == []


@pytest.mark.parametrize(
    ("said", "intent"),
    [
        ("ok", "affirm"),
        ("locked", None),
        ("verified", None),
        ("yes", "affirm"),
        ("affirm", "affirm"),
        ('inform{"verified": true}', None),
        (dates.MARK, None),
    ],
)
def test_nothing_typed_verifies(db: Database, said: str, intent: str | None) -> None:
    """The old sentinels ("ok", "locked"), an intent's name, the mark itself: none is a date,
    so none was checked, and the form asks again."""
    person = add_person(db)
    ask_dob(person)
    slots, texts = _validate(person, said, intent=intent)
    assert slots["identity_dob"] is None
    assert texts == [response("utter_dob_unreadable", "en")]
    assert _required(person.public_id) == ["identity_dob"]
    with db.session() as session:
        assert session.get_one(Conversation, person.conversation_id).verified_until is None


def test_three_wrong_dates_lock_and_open_a_normal_handoff(db: Database, rules: Settings) -> None:
    person = add_person(db)
    for guess in ("01/01/1990", "02/01/1990"):
        slots, texts = _answer(person, guess, rules)
        assert slots["identity_dob"] is None and texts == [response("utter_dob_wrong", "en")]
    slots, texts = _answer(person, "01/01/1991", rules)
    assert texts == [] and slots["requested_slot"] is None  # the form ends
    assert _required(person.public_id) == []
    with db.session() as session:
        [handoff] = session.scalars(select(Handoff)).all()
        assert handoff.priority is HandoffPriority.NORMAL and handoff.reason == LOCKED_REASON
    _, texts = run(ActionCaseUpdate(), tracker(person.public_id))
    assert texts == [response("utter_identity_locked", "en")]


def test_wrong_and_unreadable_dates_are_answered_in_welsh(db: Database, rules: Settings) -> None:
    person = add_person(db, language=Language.CY)
    _, texts = _answer(person, "dunno", rules, "cy")
    assert texts == [response("utter_dob_unreadable", "cy")]
    _, texts = _answer(person, "31/02/1984", rules, "cy")
    assert texts == [response("utter_dob_unreadable", "cy")]
    _, texts = _answer(person, "3 Ebrill 1970", rules, "cy")
    assert texts == [response("utter_dob_wrong", "cy")]


def test_verified_update_gives_events_officer_and_next_update(
    db: Database, rules: Settings
) -> None:
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
    _answer(person, "02/03/1984", rules, "cy")
    events, texts = run(ActionCaseUpdate(), tracker(person.public_id, slots={"language": "cy"}))
    [said] = texts
    assert "CR-UNIT-1" in said and "Cafodd dyn ei arestio." in said
    assert "PC Ifan Rees" in said and "Y swyddog sy'n gyfrifol" in said
    assert "20 Tachwedd" in said
    assert slot_events(events)["identity_dob"] is None


def test_the_update_checks_verification_itself(db: Database, rules: Settings) -> None:
    """Whatever the slots say, an unverified conversation is told nothing about the case."""
    person = add_person(db)
    snapshot = tracker(person.public_id, slots={"identity_dob": "ok", "update_case": "CR-UNIT-1"})
    _, texts = run(ActionCaseUpdate(), snapshot)
    assert texts == [response("utter_okay", "en")]
    assert not any("CR-UNIT-1" in t or "PC Ifan Rees" in t for t in texts)


def test_several_cases_are_listed_only_while_verified(db: Database, rules: Settings) -> None:
    person = add_person(db, case_refs=("CR-UNIT-1", "CR-UNIT-2"))
    # Not verified: the list of cases (with their crime types) is not shown; the date of
    # birth is asked for again instead.
    events, texts = run(ActionAskUpdateCase(), tracker(person.public_id))
    assert texts == [response("utter_ask_update_dob", "en")]
    assert slot_events(events)["requested_slot"] == "identity_dob"
    assert not any("burglary" in t or "CR-UNIT" in t for t in texts)

    _answer(person, "02/03/1984", rules)
    assert _required(person.public_id) == ["update_case"]
    _, texts = run(ActionAskUpdateCase(), tracker(person.public_id))
    assert "1) CR-UNIT-1 (burglary)" in texts[0] and "2) CR-UNIT-2" in texts[0]
    snapshot = tracker(person.public_id, "2", active_loop="update_form")
    result = ValidateUpdateForm().validate_update_case(
        "the 2nd one", CollectingDispatcher(), snapshot, domain()
    )
    assert result == {"update_case": "CR-UNIT-2"}
    _, texts = run(
        ActionCaseUpdate(), tracker(person.public_id, slots={"update_case": "CR-UNIT-2"})
    )
    assert texts[0].startswith("Your case CR-UNIT-2: there is no news yet.")


def test_danger_during_the_identity_check_comes_first(db: Database) -> None:
    person = add_person(db)
    ask_dob(person)
    slots, texts = _validate(person, "help hes here", intent="report_danger")
    assert slots == {"identity_dob": None, "form_halt": "danger", "requested_slot": None}
    assert texts == [text("danger", Language.EN)]
    with db.session() as session:
        [handoff] = session.scalars(select(Handoff)).all()
        assert handoff.priority is HandoffPriority.URGENT
        # The question was left: the next date is not taken for its answer.
        assert session.get_one(Conversation, person.conversation_id).dob_asked_at is None
    _, texts = run(ActionCaseUpdate(), tracker(person.public_id, slots={"form_halt": "danger"}))
    assert texts == []


def test_a_date_the_model_calls_danger_is_still_a_date(db: Database, rules: Settings) -> None:
    person = add_person(db)
    slots, texts = _answer(person, "2/3/84", rules, intent="report_danger")
    assert texts == [] and slots["requested_slot"] is None
    assert _required(person.public_id) == []


@pytest.mark.parametrize(
    ("said", "language", "first"),
    [
        ("dw i angen cymorth", "cy", "utter_support_services"),
        ("I need some support please", "en", "utter_support_services"),
        ("ga i siarad efo swyddog", "cy", "utter_officer_requested"),
        ("can I speak to an officer", "en", "utter_officer_requested"),
    ],
)
def test_the_question_can_be_left_for_support_or_an_officer(
    db: Database, said: str, language: str, first: str
) -> None:
    person = add_person(db, language=Language(language))
    ask_dob(person, language=language)
    slots, texts = _validate(person, said, language)
    assert slots["form_halt"] == "left" and slots["requested_slot"] is None
    assert texts[0].startswith(response(first, language).split("{")[0])
    assert response("utter_resume_update", language) in texts
    if first == "utter_support_services":
        # The referral is offered last, so that a yes answers it.
        assert slots["pending_question"] == "referral"
    with db.session() as session:
        assert session.get_one(Conversation, person.conversation_id).dob_asked_at is None
    # Leaving halts the form quietly: the closing action adds nothing.
    _, after = run(ActionCaseUpdate(), tracker(person.public_id, slots={"form_halt": "left"}))
    assert after == []


@pytest.mark.parametrize("said", ["999", "mae'n argyfwng", "I need an ambulance"])
def test_asking_for_999_in_the_question_gets_999_guidance(db: Database, said: str) -> None:
    person = add_person(db)
    ask_dob(person)
    slots, texts = _validate(person, said)
    assert slots["form_halt"] == "danger" and texts == [text("danger", Language.EN)]
    with db.session() as session:
        [handoff] = session.scalars(select(Handoff)).all()
        assert handoff.priority is HandoffPriority.URGENT
