"""Asking for a review of a decision (the Victims' Right to Review): recorded with its two
limits, one normal handoff, audited as the victim's, and the victim told by when."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bot.actions import ActionRequestReview
from models import (
    AuditAction,
    AuditEvent,
    Conversation,
    Handoff,
    HandoffPriority,
    Language,
    ReviewRequest,
    ReviewStatus,
    Victim,
    utcnow,
)
from models.db import Database
from tests.support.actions import add_person, db, run, slot_events, tracker
from tests.support.bot import response
from tests.support.clock import FakeClock

__all__ = ["db"]


def _verify(db: Database, conversation_id: int) -> None:
    """The conversation proved who it is (services/identity/verification.py), just now."""
    with db.session() as session:
        conversation = session.get_one(Conversation, conversation_id)
        conversation.verified_until = utcnow() + dt.timedelta(minutes=30)


@pytest.mark.parametrize(
    ("language", "said", "acknowledge_by", "decide_by"),
    [
        (
            "en",
            "i want that decision looked at again",
            "Wednesday 16 December",
            "Monday 18 January",
        ),
        ("cy", "dw i eisiau adolygiad", "dydd Mercher 16 Rhagfyr", "dydd Llun 18 Ionawr"),
    ],
)
def test_a_request_for_a_review_is_recorded_with_its_limits_and_the_victim_told_when(
    db: Database, clock: FakeClock, language: str, said: str, acknowledge_by: str, decide_by: str
) -> None:
    # Wednesday 2 December 2026: 10 working days end on Wednesday 16 December; 30 skip
    # Christmas Day, Boxing Day's substitute and New Year's Day, ending on Monday 18 January.
    person = add_person(db, language=Language(language))
    _verify(db, person.conversation_id)
    snapshot = tracker(person.public_id, said, "request_review", slots={"language": language})
    events, texts = run(ActionRequestReview(), snapshot)
    assert texts == [
        response("utter_review_requested", language).format(
            acknowledge_by=acknowledge_by, decide_by=decide_by
        )
    ]
    assert slot_events(events)["pending_question"] is None
    with db.session() as session:
        [review] = session.scalars(select(ReviewRequest)).all()
        assert review.status is ReviewStatus.REQUESTED
        assert review.case_id == person.case_id
        assert review.acknowledge_by == dt.datetime(2026, 12, 17, tzinfo=dt.UTC)
        assert review.decide_by == dt.datetime(2027, 1, 19, tzinfo=dt.UTC)
        [handoff] = session.scalars(select(Handoff)).all()
        assert handoff.priority is HandoffPriority.NORMAL and review.handoff_id == handoff.id
        [audited] = session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.REQUEST_REVIEW)
        ).all()
        assert audited.actor == "victim by sms" and audited.victim_id == person.victim_id
    # Asking again is the same request: no second record, no second clock.
    run(ActionRequestReview(), snapshot)
    with db.session() as session:
        assert len(session.scalars(select(ReviewRequest)).all()) == 1
        assert len(session.scalars(select(Handoff)).all()) == 1


@pytest.mark.parametrize("who", ["unverified", "safe_contact"])
def test_whoever_holds_the_phone_learns_no_date_of_a_review(
    db: Database, clock: FakeClock, who: str
) -> None:
    """The dates would say that a review was asked for, and when (an undecided request is
    the one answered): unverified, or in safe contact, the request is taken all the same and
    the answer says only that an officer has it."""
    person = add_person(db)
    if who == "safe_contact":
        _verify(db, person.conversation_id)
        with db.session() as session:
            session.get_one(Victim, person.victim_id).safe_contact = True
    snapshot = tracker(person.public_id, "i want it reviewed", "request_review")
    for _ in range(2):
        _, texts = run(ActionRequestReview(), snapshot)
        assert texts == [response("utter_review_unknown", "en")]
    with db.session() as session:
        [review] = session.scalars(select(ReviewRequest)).all()
        assert review.status is ReviewStatus.REQUESTED
