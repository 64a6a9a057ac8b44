"""The needs questionnaire: bot/actions/needs.py with services/assistant/assessments.py."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from bot.actions import ActionNeedsDone, ActionStartNeeds, ValidateNeedsForm
from models import AssessmentStatus, Handoff, HandoffPriority, Language, NeedsAssessment
from models.assessments import NeedsQuestion, answered
from models.db import Database
from services.assistant.assessments import UNSAFE_REASON
from services.language.texts import text
from tests.support.actions import add_person, db, domain, run, slot_events, tracker
from tests.support.bot import response

__all__ = ["db"]


def _answer(public_id: str, slot: str, text: str, language: str = "en") -> tuple[dict, list[str]]:
    snapshot = tracker(
        public_id,
        text,
        slots={"language": language, "requested_slot": slot, slot: text},
        events=[
            {"event": "user", "text": text, "parse_data": {}, "timestamp": 1.0},
            {"event": "slot", "name": slot, "value": text, "timestamp": 1.0},
        ],
        active_loop="needs_form",
    )
    events, texts = run(ValidateNeedsForm(), snapshot)
    return slot_events(events), texts


def _assessment(db: Database) -> NeedsAssessment:
    with db.session() as session:
        assessment = session.scalars(select(NeedsAssessment)).one()
        assessment.answers  # noqa: B018 - loaded while the session is open
        return assessment


def test_answers_are_saved_as_given_and_not_safe_opens_a_high_handoff(db: Database) -> None:
    person = add_person(db, language=Language.CY)
    events, texts = run(ActionStartNeeds(), tracker(person.public_id, slots={"language": "cy"}))
    assert texts == [response("utter_needs_intro", "cy")]

    slots, texts = _answer(person.public_id, "needs_safe_now", "na dim rili", "cy")
    assert slots["needs_safe_now"] == "na dim rili"
    assert texts == [response("utter_needs_unsafe", "cy")]
    with db.session() as session:
        [handoff] = session.scalars(select(Handoff)).all()
        assert handoff.priority is HandoffPriority.HIGH and handoff.reason == UNSAFE_REASON

    slots, _ = _answer(person.public_id, "needs_support", "tai ac arian plis", "cy")
    assert slots["needs_support"] == "tai ac arian plis"
    saved = answered(_assessment(db))
    assert saved[NeedsQuestion.SAFE_NOW].value == "not_safe"
    assert saved[NeedsQuestion.SUPPORT].value == "financial,housing"


def test_unclear_answer_is_asked_again_and_skip_is_saved_as_skipped(db: Database) -> None:
    person = add_person(db)
    run(ActionStartNeeds(), tracker(person.public_id))
    slots, texts = _answer(person.public_id, "needs_support", "hmm what")
    assert slots["needs_support"] is None
    assert texts == [response("utter_needs_not_understood", "en")]
    slots, _ = _answer(person.public_id, "needs_support", "skip")
    assert slots["needs_support"] == "skipped"
    assert answered(_assessment(db))[NeedsQuestion.SUPPORT].skipped


def test_later_pauses_and_a_restart_resumes_with_the_answers(db: Database) -> None:
    person = add_person(db)
    run(ActionStartNeeds(), tracker(person.public_id))
    _answer(person.public_id, "needs_safe_now", "yes i'm ok")
    slots, _ = _answer(person.public_id, "needs_support", "later")
    assert slots["form_halt"] == "later" and slots["requested_slot"] is None
    _, texts = run(ActionNeedsDone(), tracker(person.public_id, slots={"form_halt": "later"}))
    assert texts == [response("utter_needs_paused", "en")]
    assert _assessment(db).status is AssessmentStatus.PAUSED

    events, texts = run(ActionStartNeeds(), tracker(person.public_id))
    assert texts == [response("utter_needs_resume", "en")]
    slots = slot_events(events)
    assert slots["needs_safe_now"] == "yes i'm ok" and slots["needs_support"] is None
    assert _assessment(db).status is AssessmentStatus.IN_PROGRESS
    # The resumed answer, validated again when the form starts, is not saved twice.
    dispatcher = CollectingDispatcher()
    result = ValidateNeedsForm().validate_needs_safe_now(
        "yes i'm ok", dispatcher, tracker(person.public_id), domain()
    )
    assert result == {"needs_safe_now": "yes i'm ok"} and dispatcher.messages == []


def test_no_more_stops_and_completion_is_timestamped(db: Database) -> None:
    person = add_person(db)
    run(ActionStartNeeds(), tracker(person.public_id))
    slots, _ = _answer(person.public_id, "needs_safe_now", "no more questions")
    assert slots["form_halt"] == "stopped"
    _, texts = run(ActionNeedsDone(), tracker(person.public_id, slots={"form_halt": "stopped"}))
    assert texts == [response("utter_needs_stopped", "en")]
    assert _assessment(db).status is AssessmentStatus.STOPPED

    other = add_person(db, phone="+447700900502", case_refs=("CR-UNIT-2",))
    run(ActionStartNeeds(), tracker(other.public_id))
    for slot, answer in [
        ("needs_safe_now", "yeah"),
        ("needs_support", "emotional"),
        ("needs_communication", "none"),
        ("needs_contact", "whatsapp every week"),
        ("needs_avoid_times", "not after 9pm"),
    ]:
        assert _answer(other.public_id, slot, answer)[0][slot] == answer
    events, texts = run(ActionNeedsDone(), tracker(other.public_id))
    assert texts == [response("utter_needs_done", "en")]
    assert all(value is None for value in slot_events(events).values())
    with db.session() as session:
        done = session.scalars(
            select(NeedsAssessment).where(NeedsAssessment.victim_id == other.victim_id)
        ).one()
        assert done.status is AssessmentStatus.COMPLETED and done.completed_at is not None
        assert len(done.answers) == 5


def test_danger_mid_form_gives_999_and_keeps_the_answer(db: Database) -> None:
    person = add_person(db)
    run(ActionStartNeeds(), tracker(person.public_id))
    snapshot = tracker(
        person.public_id, "no he's outside", "report_danger", active_loop="needs_form"
    )
    dispatcher = CollectingDispatcher()
    result = ValidateNeedsForm().validate_needs_safe_now(
        "no he's outside", dispatcher, snapshot, domain()
    )
    assert result == {"needs_safe_now": "no he's outside"}
    assert [m["text"] for m in dispatcher.messages] == [text("danger", Language.EN)]
    with db.session() as session:
        [handoff] = session.scalars(select(Handoff)).all()
        assert handoff.priority is HandoffPriority.URGENT
    assert answered(_assessment(db))[NeedsQuestion.SAFE_NOW].value == "not_safe"
