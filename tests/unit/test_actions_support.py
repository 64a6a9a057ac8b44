"""Support and referrals, an officer, danger, rights and complaints, yes and no."""

from __future__ import annotations

from rasa_sdk.events import FollowupAction
from sqlalchemy import select

from bot.actions import (
    ActionComplaint,
    ActionReportDanger,
    ActionRights,
    ActionSupport,
    ActionTalkToOfficer,
    ActionYesNo,
)
from models import Handoff, HandoffPriority, Language, Notification, Referral, utcnow
from models.db import Database
from models.notifications import NotificationKind, NotificationStatus
from services.assistant import support
from services.language.texts import text
from tests.support.actions import add_person, db, run, slot_events, tracker
from tests.support.bot import response

__all__ = ["db"]


def _handoffs(db: Database) -> list[Handoff]:
    with db.session() as session:
        return list(session.scalars(select(Handoff)).all())


def test_support_lists_services_then_a_yes_refers_and_tells_the_officer(db: Database) -> None:
    person = add_person(db)
    events, texts = run(ActionSupport(), tracker(person.public_id, "i need help coping"))
    assert "Victim Support: 0808 168 9111" in texts[0]
    assert "0808 80 10 800" in texts[0] and "116 123" in texts[0]
    assert texts[1] == response("utter_offer_referral", "en").format(service="Victim Support")
    assert slot_events(events)["pending_question"] == "referral"

    events, texts = run(
        ActionYesNo(),
        tracker(person.public_id, "yes please", "affirm", slots={"pending_question": "referral"}),
    )
    assert texts == [
        response("utter_referral_done", "en").format(service="Victim Support"),
        response("utter_offer_needs", "en"),
    ]
    assert slot_events(events)["pending_question"] == "needs"
    with db.session() as session:
        [referral] = session.scalars(select(Referral)).all()
        assert referral.service == support.referral_service().key
        assert referral.consent_at is not None and referral.told_officer_at is not None
        assert referral.handoff_id is not None
    [handoff] = _handoffs(db)
    assert handoff.priority is HandoffPriority.NORMAL

    events, _ = run(
        ActionYesNo(),
        tracker(person.public_id, "ok", "affirm", slots={"pending_question": "needs"}),
    )
    assert FollowupAction("action_start_needs") in events


def test_a_no_to_the_referral_shares_nothing(db: Database) -> None:
    person = add_person(db, language=Language.CY)
    _, texts = run(
        ActionYesNo(),
        tracker(
            person.public_id, "na", "deny", slots={"language": "cy", "pending_question": "referral"}
        ),
    )
    assert texts[0] == response("utter_referral_declined", "cy")
    with db.session() as session:
        assert session.scalars(select(Referral)).all() == []


def test_yes_to_the_schedulers_invitation_starts_the_questionnaire(db: Database) -> None:
    person = add_person(db)
    events, texts = run(ActionYesNo(), tracker(person.public_id, "yes", "affirm"))
    assert texts == [response("utter_okay", "en")]  # nothing was asked
    with db.session() as session:
        session.add(
            Notification(
                victim_id=person.victim_id,
                case_id=person.case_id,
                kind=NotificationKind.NEEDS_INVITE,
                send_at=utcnow(),
                status=NotificationStatus.SENT,
            )
        )
    events, texts = run(ActionYesNo(), tracker(person.public_id, "yes", "affirm"))
    assert texts == [] and FollowupAction("action_start_needs") in events


def test_officer_request_opens_a_normal_handoff_and_says_when(db: Database) -> None:
    person = add_person(db, language=Language.CY)
    _, texts = run(ActionTalkToOfficer(), tracker(person.public_id, slots={"language": "cy"}))
    assert texts[0].startswith("Rydym wedi gofyn i swyddog heddlu gysylltu â chi.")
    assert "Mae'r uned ar" in texts[0] and texts[0].endswith("Mewn argyfwng, ffoniwch 999.")
    [handoff] = _handoffs(db)
    assert handoff.priority is HandoffPriority.NORMAL


def test_danger_from_the_model_answers_999_and_opens_an_urgent_handoff(db: Database) -> None:
    person = add_person(db)
    run(ActionTalkToOfficer(), tracker(person.public_id))
    _, texts = run(ActionReportDanger(), tracker(person.public_id, "hes here", "report_danger"))
    assert texts == [text("danger", Language.EN)]
    [handoff] = _handoffs(db)
    assert handoff.priority is HandoffPriority.URGENT  # the open one, raised


def test_rights_summary_detail_and_complaint(db: Database) -> None:
    person = add_person(db, language=Language.CY)
    cy = {"language": "cy"}
    _, texts = run(ActionRights(), tracker(person.public_id, "beth yw fy hawliau", slots=cy))
    assert texts == [response("utter_rights_summary", "cy")]
    _, texts = run(ActionRights(), tracker(person.public_id, "DATGANIAD", slots=cy))
    assert texts == [response("utter_rights_statement", "cy")]
    _, texts = run(ActionRights(), tracker(person.public_id, "restorative justice?"))
    assert texts == [response("utter_rights_restorative", "en")]
    assert _handoffs(db) == []
    _, texts = run(ActionComplaint(), tracker(person.public_id, "i want to complain", slots=cy))
    assert texts == [response("utter_complaint", "cy")]
    assert [h.reason for h in _handoffs(db)] == ["complaint"]
