"""Requests for a review of a police decision (the Victims' Right to Review, police scheme).

A victim told of a decision to take no further action, or to close the investigation, may ask
for it to be reviewed (the notification says how: services/casework/notifications.py). When
the assistant understands such a request (bot/actions/review.py) it is recorded here with the
scheme's two limits from the Victims' Code file: acknowledge it (review_acknowledgement, 10
working days) and decide it (review_decision, 30 working days), counted from the request; and
an officer is asked to take it on through a normal handoff. An officer acknowledges and decides
it in the console. A request while an earlier one of the same victim is still undecided is
that request: asking twice starts no second clock.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from models import (
    CaseVictim,
    Conversation,
    HandoffPriority,
    ReviewRequest,
    ReviewStatus,
    Victim,
)
from models.reviews import TRANSITIONS
from services.casework.cases import find_case
from services.casework.notifications import iso
from services.casework.scheduled_updates import MAX_ID
from services.console import handoffs
from services.errors import Conflict, NotFound
from services.victims_code import deadlines, duties

log = logging.getLogger(__name__)

REASON = "review of a decision requested (Victims' Right to Review)"


def request(
    session: Session, conversation: Conversation, victim: Victim, at: dt.datetime
) -> tuple[ReviewRequest, bool]:
    """Record a victim's request for a review made at `at`, with its limits, and open a
    normal handoff; the request and whether it is new (False: one was still undecided)."""
    handoff = handoffs.open_handoff(session, conversation, HandoffPriority.NORMAL, REASON)
    session.flush()
    pending = session.scalar(
        select(ReviewRequest)
        .where(ReviewRequest.victim_id == victim.id, ReviewRequest.status != ReviewStatus.DECIDED)
        .order_by(ReviewRequest.id)
    )
    if pending is not None:
        return pending, False
    code = duties.current()
    enhanced = victim.enhanced_rights
    places = victim.cases
    review = ReviewRequest(
        victim_id=victim.id,
        case_id=places[0].case_id if len(places) == 1 else None,
        requested_at=at,
        acknowledge_by=deadlines.due_by(at, enhanced, code[duties.DutyKey.REVIEW_ACKNOWLEDGEMENT]),
        decide_by=deadlines.due_by(at, enhanced, code[duties.DutyKey.REVIEW_DECISION]),
        status=ReviewStatus.REQUESTED,
        handoff_id=handoff.id,
    )
    session.add(review)
    session.flush()
    log.info("review request %s recorded for victim %s", review.id, victim.id)
    return review, True


def find(session: Session, review_id: int) -> ReviewRequest:
    """The request, or NotFound."""
    # An id beyond the column is no row (PostgreSQL would refuse the query: a 500).
    review = session.get(ReviewRequest, review_id) if 1 <= review_id <= MAX_ID else None
    if review is None:
        raise NotFound(f"no review request {review_id}")
    return review


def move(session: Session, review_id: int, to: ReviewStatus, by: str) -> ReviewRequest:
    """Acknowledge or decide a request, `by` whom; Conflict when its status does not allow
    it (decided already, or acknowledged twice)."""
    review = find(session, review_id)
    if to not in TRANSITIONS[review.status]:
        raise Conflict(f"review request {review_id} is {review.status.value}")
    review.move(to, by[:200])
    session.flush()
    return review


def for_case(session: Session, case_ref: str) -> list[ReviewRequest]:
    """Requests of the victims on a case (one made while a victim was on several cases has
    no case of its own, and shows on each of theirs). NotFound for an unknown case."""
    case = find_case(session, case_ref)
    on_case = select(CaseVictim.victim_id).where(CaseVictim.case_id == case.id)
    return list(
        session.scalars(
            select(ReviewRequest)
            .where(
                (ReviewRequest.case_id == case.id)
                | (ReviewRequest.case_id.is_(None) & ReviewRequest.victim_id.in_(on_case))
            )
            .options(joinedload(ReviewRequest.case))
            .order_by(ReviewRequest.id)
        )
    )


def _in_time(done: dt.datetime | None, limit: dt.datetime, now: dt.datetime) -> bool | None:
    """True when done before the limit, False when done late or not done and past it, None
    while it is still open."""
    if done is not None:
        return done < limit
    return False if now >= limit else None


def as_json(review: ReviewRequest, now: dt.datetime) -> dict[str, Any]:
    """A request as the API shows it against its limits: no name or number, no words."""
    return {
        "id": review.id,
        "victim_id": review.victim_id,
        "case_ref": review.case.case_ref if review.case is not None else None,
        "status": review.status.value,
        "requested_at": iso(review.requested_at),
        "acknowledge_by": iso(review.acknowledge_by),
        "acknowledged_at": iso(review.acknowledged_at),
        "acknowledged_within_limit": _in_time(review.acknowledged_at, review.acknowledge_by, now),
        "decide_by": iso(review.decide_by),
        "decided_at": iso(review.decided_at),
        "decided_within_limit": _in_time(review.decided_at, review.decide_by, now),
    }
