"""Everything held about one victim, for a subject access request (UK GDPR Article 15; Data
Protection Act 2018, section 45): a supervisor's page (JSON, or readable HTML) and
`flask --app webhooks victims export VICTIM_ID` (JSON on stdout).

Every row that is about them, with every column as stored: their record, their cases with
the events and scheduled updates officers wrote, the notifications planned for them, every
conversation with their number (messages, officers' internal notes, handoffs, Twilio's
delivery callbacks, and Rasa's tracker events: everything they typed, as the assistant read
it), needs answers, referrals, survey answers, requests to put them on a case, and who has
read or changed their data (the audit trail). The force's Data Protection Officer decides
what is disclosed: the law-enforcement exemptions (section 45(4)) and other people's data
(a case shared with another victim, an officer's name) are theirs to weigh.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models import (
    AttachRequest,
    AuditAction,
    AuditEvent,
    Base,
    Case,
    CaseEvent,
    CaseVictim,
    Conversation,
    DeliveryEvent,
    Handoff,
    Message,
    NeedsAnswer,
    NeedsAssessment,
    Notification,
    Officer,
    OfficerNote,
    Referral,
    ReviewRequest,
    ScheduledUpdate,
    SurveyResponse,
    utcnow,
)
from models.db import Database
from services.console import audit
from services.privacy import erasure, tracker


def _value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def row(record: Base) -> dict[str, Any]:
    """Every column of a row, as stored, in JSON's terms (times ISO 8601 UTC)."""
    return {c.key: _value(getattr(record, c.key)) for c in record.__mapper__.column_attrs}


def _rows(session: Session, query: Any) -> list[dict[str, Any]]:
    return [row(r) for r in session.scalars(query)]


def collect(session: Session, victim_id: int, tracker_url: str) -> dict[str, Any]:
    """Everything held about the victim, as JSON-ready data (NotFound, AlreadyErased)."""
    found = erasure.victim(session, victim_id)
    case_ids = list(
        session.scalars(select(CaseVictim.case_id).where(CaseVictim.victim_id == victim_id))
    )
    cases = []
    for case in session.scalars(select(Case).where(Case.id.in_(case_ids)).order_by(Case.id)):
        cases.append(
            {
                **row(case),
                "events": _rows(
                    session,
                    select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id),
                ),
                "scheduled_updates": _rows(
                    session,
                    select(ScheduledUpdate)
                    .where(ScheduledUpdate.case_id == case.id)
                    .order_by(ScheduledUpdate.id),
                ),
            }
        )
    addresses = erasure.addresses_of(session, [victim_id])
    talks = list(
        session.scalars(
            select(Conversation)
            .where(or_(Conversation.victim_id == victim_id, Conversation.address.in_(addresses)))
            .order_by(Conversation.id)
        )
    )
    tracked = tracker.events_of(tracker_url, [t.public_id for t in talks])
    conversations = []
    for talk in talks:
        sids = select(Message.twilio_sid).where(
            Message.conversation_id == talk.id, Message.twilio_sid.is_not(None)
        )
        conversations.append(
            {
                **row(talk),
                "messages": _rows(
                    session,
                    select(Message).where(Message.conversation_id == talk.id).order_by(Message.id),
                ),
                "officer_notes": _rows(
                    session,
                    select(OfficerNote)
                    .where(OfficerNote.conversation_id == talk.id)
                    .order_by(OfficerNote.id),
                ),
                "handoffs": _rows(
                    session,
                    select(Handoff).where(Handoff.conversation_id == talk.id).order_by(Handoff.id),
                ),
                "delivery_events": _rows(
                    session,
                    select(DeliveryEvent)
                    .where(DeliveryEvent.twilio_sid.in_(sids))
                    .order_by(DeliveryEvent.id),
                ),
                "rasa_tracker_events": tracked.get(talk.public_id, []),
            }
        )
    assessments = []
    for assessment in session.scalars(
        select(NeedsAssessment)
        .where(NeedsAssessment.victim_id == victim_id)
        .order_by(NeedsAssessment.id)
    ):
        assessments.append(
            {
                **row(assessment),
                "answers": _rows(
                    session,
                    select(NeedsAnswer)
                    .where(NeedsAnswer.assessment_id == assessment.id)
                    .order_by(NeedsAnswer.id),
                ),
            }
        )
    return {
        "victim": row(found),
        "cases": cases,
        "notifications": _rows(
            session,
            select(Notification)
            .where(Notification.victim_id == victim_id)
            .order_by(Notification.id),
        ),
        "conversations": conversations,
        "handoffs_without_a_conversation_of_theirs": _rows(
            session,
            select(Handoff)
            .where(
                Handoff.victim_id == victim_id,
                Handoff.conversation_id.not_in([t.id for t in talks]),
            )
            .order_by(Handoff.id),
        ),
        "needs_assessments": assessments,
        "referrals": _rows(
            session, select(Referral).where(Referral.victim_id == victim_id).order_by(Referral.id)
        ),
        "review_requests": _rows(
            session,
            select(ReviewRequest)
            .where(ReviewRequest.victim_id == victim_id)
            .order_by(ReviewRequest.id),
        ),
        "survey_responses": _rows(
            session,
            select(SurveyResponse)
            .where(SurveyResponse.victim_id == victim_id)
            .order_by(SurveyResponse.id),
        ),
        "attach_requests": _rows(
            session,
            select(AttachRequest)
            .where(AttachRequest.victim_id == victim_id)
            .order_by(AttachRequest.id),
        ),
        "access_log": [
            {"at": _value(e.at), "actor": e.actor, "action": e.action.value, "detail": e.detail}
            for e in session.scalars(
                select(AuditEvent)
                .where(AuditEvent.victim_id == victim_id)
                .order_by(AuditEvent.at, AuditEvent.id)
            )
        ],
    }


def export(
    db: Database,
    victim_id: int,
    *,
    actor: str,
    tracker_url: str,
    officer: Officer | None = None,
) -> dict[str, Any]:
    """Everything held about the victim, with who asked and when; audited (the export is
    itself a disclosure)."""
    with db.session() as session:
        body = collect(session, victim_id, tracker_url)
        audit.record(
            session,
            session.get(Officer, officer.id) if officer is not None else None,
            AuditAction.EXPORT_VICTIM,
            actor=actor,
            victim_id=victim_id,
            detail="subject access export",
        )
    return {
        "subject_access_export": {
            "victim_id": victim_id,
            "generated_at": _value(utcnow()),
            "generated_by": actor,
        },
        **body,
    }
