"""The needs questionnaire: bot/actions/needs.py with services/assistant/assessments.py."""

from __future__ import annotations

import pytest
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


@pytest.mark.parametrize(
    ("slot", "said", "language", "first"),
    [
        ("needs_safe_now", "dw i angen cymorth", "cy", "utter_support_services"),
        (
            "needs_communication",
            "can I speak to an officer please",
            "en",
            "utter_officer_requested",
        ),
        ("needs_avoid_times", "ga i siarad â swyddog", "cy", "utter_officer_requested"),
        ("needs_contact", "I need support", "en", "utter_support_services"),
    ],
)
def test_asking_for_support_or_an_officer_leaves_the_questionnaire_to_resume_later(
    db: Database, slot: str, said: str, language: str, first: str
) -> None:
    person = add_person(db, language=Language(language))
    run(ActionStartNeeds(), tracker(person.public_id, slots={"language": language}))
    if slot != "needs_safe_now":
        _answer(person.public_id, "needs_safe_now", "ydw" if language == "cy" else "yes")
    slots, texts = _answer(person.public_id, slot, said, language)
    assert slots["form_halt"] == "left" and slots["requested_slot"] is None
    assert texts[0].startswith(response(first, language).split("{")[0])
    assert response("utter_resume_needs", language) in texts
    assessment = _assessment(db)
    assert assessment.status is AssessmentStatus.PAUSED
    assert NeedsQuestion(slot.removeprefix("needs_")) not in answered(assessment)
    _, after = run(ActionNeedsDone(), tracker(person.public_id, slots={"form_halt": "left"}))
    assert after == []
    # Taken up later where it stopped: the same questionnaire, its answers kept.
    _, texts = run(ActionStartNeeds(), tracker(person.public_id, slots={"language": language}))
    resumed = "utter_needs_intro" if slot == "needs_safe_now" else "utter_needs_resume"
    assert texts == [response(resumed, language)]
    assert _assessment(db).id == assessment.id


def test_words_that_answer_a_closed_question_are_an_answer(db: Database) -> None:
    person = add_person(db)
    run(ActionStartNeeds(), tracker(person.public_id))
    slots, texts = _answer(person.public_id, "needs_safe_now", "no, I need help")
    assert slots["needs_safe_now"] == "no, I need help"  # not safe: a high handoff
    assert texts == [response("utter_needs_unsafe", "en")]
    slots, _ = _answer(person.public_id, "needs_support", "emotional support please")
    assert slots["needs_support"] == "emotional support please"
    assert answered(_assessment(db))[NeedsQuestion.SUPPORT].value == "emotional"


def test_asking_for_999_mid_questionnaire_gets_999_guidance(db: Database) -> None:
    person = add_person(db, language=Language.CY)
    run(ActionStartNeeds(), tracker(person.public_id, slots={"language": "cy"}))
    slots, texts = _answer(person.public_id, "needs_support", "ffonio 999", "cy")
    assert texts == [text("danger", Language.CY)] and slots["needs_support"] is None
    with db.session() as session:
        [handoff] = session.scalars(select(Handoff)).all()
        assert handoff.priority is HandoffPriority.URGENT


def test_asking_for_an_officer_by_name_is_never_an_answer(db: Database) -> None:
    person = add_person(db, language=Language.CY)
    run(ActionStartNeeds(), tracker(person.public_id, slots={"language": "cy"}))
    _answer(person.public_id, "needs_safe_now", "ydw", "cy")
    # "siarad" would be emotional support; "swyddog" asks for an officer.
    slots, texts = _answer(person.public_id, "needs_support", "ga i siarad â swyddog plis", "cy")
    assert slots["form_halt"] == "left"
    assert texts[0].startswith(response("utter_officer_requested", "cy").split("{")[0])
    slots, _ = _answer(person.public_id, "needs_support", "rhywun i siarad efo", "cy")
    assert slots["needs_support"] == "rhywun i siarad efo"
