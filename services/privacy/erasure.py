"""Erasing one victim: on request (a supervisor's page, `flask victims erase`), or when their
time has run out (services/privacy/retention.py).

Afterwards nothing in any table identifies them, and Rasa's tracker holds nothing of their
conversations. What goes:

- every conversation with their number (SMS and WhatsApp, registered or not), with its
  messages, Twilio's delivery callbacks for them, officers' notes, handoffs, and the dev
  phone's copies; Rasa's tracker events of those conversations (by sender id, the
  conversation's `public_id`);
- their notifications, needs answers, referrals, requests for a review, survey answers and
  attach requests;
- their place on each case; a case left with no victim goes whole (its events, scheduled
  updates and officers' places), as its summaries were written for them. A case that still
  has other victims is theirs too, and stays;
- the victim's own row is emptied (no name, number or date of birth) and marked
  `erased_at`, but kept: the audit trail still points at its id. The trail itself stays,
  as the Data Protection Act 2018 (section 62) requires logs of who consulted, disclosed and
  erased data to be kept; it holds ids and actions, never a name, number or message body.

An open case asks for confirmation first (OpenCase): erasing its victim stops their updates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from models import (
    AttachRequest,
    AuditAction,
    AuditEvent,
    Case,
    CaseEvent,
    CaseOfficer,
    CaseStatus,
    CaseVictim,
    Channel,
    Conversation,
    DeliveryEvent,
    DevPhoneMessage,
    Handoff,
    Language,
    Message,
    NeedsAnswer,
    NeedsAssessment,
    Notification,
    Officer,
    OfficerNote,
    Referral,
    ReviewRequest,
    ScheduledUpdate,
    SettingRequest,
    SurveyResponse,
    Victim,
    channel_address,
    utcnow,
)
from models.db import Database
from services.console import audit
from services.errors import NotFound, ServiceError
from services.privacy import tracker

# What an erased victim's row holds instead of their details.
ERASED_NAME = ""
ERASED_BIRTH = dt.date(1900, 1, 1)

# Every table that points at a victim, a conversation, a message or a case, and so must be
# dealt with here; tests/integration/test_privacy.py fails when a model adds another.
HANDLED_TABLES = frozenset(
    {
        "attach_requests",
        "audit_events",
        "case_events",
        "case_officers",
        "case_victims",
        "conversations",
        "delivery_events",
        "devphone_messages",
        "handoffs",
        "messages",
        "needs_answers",
        "needs_assessments",
        "notifications",
        "officer_notes",
        "referrals",
        "review_requests",
        "scheduled_updates",
        "setting_requests",
        "survey_responses",
    }
)


class OpenCase(ServiceError):
    """The victim is on an open case: erasing them needs confirmation (HTTP 409)."""

    def __init__(self, case_refs: list[str]) -> None:
        super().__init__(
            "the victim is on open case(s) "
            + ", ".join(case_refs)
            + ": erasing them stops their updates; confirm to go ahead"
        )
        self.case_refs = case_refs


class AlreadyErased(ServiceError):
    """The victim was erased before (HTTP 410)."""


@dataclass(frozen=True)
class Erased:
    victim_id: int
    counts: dict[str, int]


def victim(session: Session, victim_id: int) -> Victim:
    """The victim (NotFound; AlreadyErased once erased)."""
    found = session.get(Victim, victim_id)
    if found is None:
        raise NotFound(f"no victim {victim_id}")
    if found.erased_at is not None:
        raise AlreadyErased(f"victim {victim_id} was erased on {found.erased_at:%Y-%m-%d}")
    return found


def open_cases(session: Session, victim_id: int) -> list[str]:
    """References of the open cases the victim is on."""
    return list(
        session.scalars(
            select(Case.case_ref)
            .join(CaseVictim, CaseVictim.case_id == Case.id)
            .where(CaseVictim.victim_id == victim_id, Case.status == CaseStatus.OPEN)
            .order_by(Case.case_ref)
        )
    )


def addresses_of(session: Session, victim_ids: Sequence[int]) -> list[str]:
    """Every Twilio address of these victims' numbers (SMS and WhatsApp)."""
    phones = session.scalars(select(Victim.phone).where(Victim.id.in_(victim_ids)))
    return [channel_address(channel, phone) for phone in phones for channel in Channel]


def _count(session: Session, statement: object) -> int:
    result = session.execute(statement)  # type: ignore[call-overload]
    return int(result.rowcount or 0)


def delete_conversations(session: Session, conversation_ids: Sequence[int]) -> dict[str, int]:
    """Delete conversations with their messages, delivery callbacks, notes, handoffs and dev
    phone copies (not Rasa's tracker: the caller does that, by their public ids)."""
    if not conversation_ids:
        return {}
    talks = list(conversation_ids)
    messages = select(Message.id).where(Message.conversation_id.in_(talks))
    sids = select(Message.twilio_sid).where(
        Message.conversation_id.in_(talks), Message.twilio_sid.is_not(None)
    )
    addresses = select(Conversation.address).where(Conversation.id.in_(talks))
    counts = {
        "delivery_events": _count(
            session, delete(DeliveryEvent).where(DeliveryEvent.twilio_sid.in_(sids))
        ),
        "dev_phone_messages": _count(
            session, delete(DevPhoneMessage).where(DevPhoneMessage.handset.in_(addresses))
        ),
    }
    session.execute(
        update(Notification).where(Notification.message_id.in_(messages)).values(message_id=None)
    )
    session.execute(
        update(Message).where(Message.conversation_id.in_(talks)).values(reply_to_id=None)
    )
    counts["notes"] = _count(
        session, delete(OfficerNote).where(OfficerNote.conversation_id.in_(talks))
    )
    handoffs = select(Handoff.id).where(Handoff.conversation_id.in_(talks))
    session.execute(
        update(Referral).where(Referral.handoff_id.in_(handoffs)).values(handoff_id=None)
    )
    session.execute(
        update(Referral)
        .where(Referral.overdue_handoff_id.in_(handoffs))
        .values(overdue_handoff_id=None)
    )
    session.execute(
        update(ReviewRequest).where(ReviewRequest.handoff_id.in_(handoffs)).values(handoff_id=None)
    )
    counts["handoffs"] = _count(session, delete(Handoff).where(Handoff.conversation_id.in_(talks)))
    counts["messages"] = _count(session, delete(Message).where(Message.conversation_id.in_(talks)))
    session.execute(
        update(AuditEvent).where(AuditEvent.conversation_id.in_(talks)).values(conversation_id=None)
    )
    counts["conversations"] = _count(
        session, delete(Conversation).where(Conversation.id.in_(talks))
    )
    return counts


def _delete_case(session: Session, case_id: int) -> None:
    """A case left without victims, whole."""
    updates = select(ScheduledUpdate.id).where(ScheduledUpdate.case_id == case_id)
    events = select(CaseEvent.id).where(CaseEvent.case_id == case_id)
    # Rows of victims erased earlier that named this case keep no link to it.
    for table in (Referral, ReviewRequest, NeedsAssessment, Handoff):
        session.execute(update(table).where(table.case_id == case_id).values(case_id=None))
    session.execute(delete(SurveyResponse).where(SurveyResponse.case_id == case_id))
    session.execute(
        delete(Notification).where(
            or_(
                Notification.case_id == case_id,
                Notification.scheduled_update_id.in_(updates),
                Notification.event_id.in_(events),
            )
        )
    )
    session.execute(delete(ScheduledUpdate).where(ScheduledUpdate.case_id == case_id))
    session.execute(delete(CaseEvent).where(CaseEvent.case_id == case_id))
    session.execute(delete(CaseOfficer).where(CaseOfficer.case_id == case_id))
    session.execute(delete(AttachRequest).where(AttachRequest.case_id == case_id))
    session.execute(update(AuditEvent).where(AuditEvent.case_id == case_id).values(case_id=None))
    session.execute(delete(Case).where(Case.id == case_id))


def _erase_rows(session: Session, found: Victim) -> tuple[dict[str, int], list[str]]:
    """Everything of one victim in the app's database; the counts, and the public ids of the
    conversations that went (for Rasa's tracker)."""
    addresses = addresses_of(session, [found.id])
    talks = list(
        session.execute(
            select(Conversation.id, Conversation.public_id).where(
                or_(Conversation.victim_id == found.id, Conversation.address.in_(addresses))
            )
        )
    )
    public_ids = [public_id for _, public_id in talks]
    counts = delete_conversations(session, [talk_id for talk_id, _ in talks])
    counts["dev_phone_messages"] = counts.get("dev_phone_messages", 0) + _count(
        session, delete(DevPhoneMessage).where(DevPhoneMessage.handset.in_(addresses))
    )
    mine = select(Notification.id).where(Notification.victim_id == found.id)
    counts["survey_responses"] = _count(
        session,
        delete(SurveyResponse).where(
            or_(SurveyResponse.victim_id == found.id, SurveyResponse.notification_id.in_(mine))
        ),
    )
    counts["notifications"] = _count(
        session, delete(Notification).where(Notification.victim_id == found.id)
    )
    counts["referrals"] = _count(session, delete(Referral).where(Referral.victim_id == found.id))
    counts["review_requests"] = _count(
        session, delete(ReviewRequest).where(ReviewRequest.victim_id == found.id)
    )
    counts["handoffs"] = counts.get("handoffs", 0) + _count(
        session, delete(Handoff).where(Handoff.victim_id == found.id)
    )
    assessments = select(NeedsAssessment.id).where(NeedsAssessment.victim_id == found.id)
    counts["needs_answers"] = _count(
        session, delete(NeedsAnswer).where(NeedsAnswer.assessment_id.in_(assessments))
    )
    session.execute(delete(NeedsAssessment).where(NeedsAssessment.victim_id == found.id))
    session.execute(delete(AttachRequest).where(AttachRequest.victim_id == found.id))
    # Changes to their settings that waited for an officer (safe contact off by text).
    session.execute(delete(SettingRequest).where(SettingRequest.victim_id == found.id))
    case_ids = list(
        session.scalars(select(CaseVictim.case_id).where(CaseVictim.victim_id == found.id))
    )
    counts["case_places"] = _count(
        session, delete(CaseVictim).where(CaseVictim.victim_id == found.id)
    )
    emptied = [
        case_id
        for case_id in case_ids
        if not session.scalar(
            select(func.count()).select_from(CaseVictim).where(CaseVictim.case_id == case_id)
        )
    ]
    for case_id in emptied:
        _delete_case(session, case_id)
    counts["cases"] = len(emptied)
    found.name = ERASED_NAME
    found.phone = f"erased-{found.id}"
    found.date_of_birth = ERASED_BIRTH
    found.channel, found.language = Channel.SMS, Language.EN
    found.enhanced_rights = found.safe_contact = False
    found.update_every_days = 28
    found.quiet_start, found.quiet_end = dt.time(20, 0), dt.time(8, 0)
    found.erased_at = utcnow()
    return counts, public_ids


def erase(
    db: Database,
    victim_id: int,
    *,
    actor: str,
    tracker_url: str,
    officer: Officer | None = None,
    confirm_open: bool = True,
    reason: str = "on request",
) -> Erased:
    """Erase one victim (the rules above) and audit it; OpenCase when they are on an open
    case and `confirm_open` is False. How much of each kind went."""
    with db.session() as session:
        found = victim(session, victim_id)
        still_open = open_cases(session, victim_id)
        if still_open and not confirm_open:
            raise OpenCase(still_open)
        addresses = addresses_of(session, [victim_id])
        public_ids = list(
            session.scalars(
                select(Conversation.public_id).where(
                    or_(Conversation.victim_id == victim_id, Conversation.address.in_(addresses))
                )
            )
        )
    # Rasa's tracker is another database: it goes first (if the rest then failed, more
    # would be gone, never less), and again after, for an event Rasa wrote meanwhile.
    tracked = tracker.erase(tracker_url, public_ids)
    with db.session() as session:
        found = victim(session, victim_id)
        counts, public_ids = _erase_rows(session, found)
        counts["tracker_events"] = tracked
        summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if v)
        audit.record(
            session,
            session.get(Officer, officer.id) if officer is not None else None,
            AuditAction.ERASE_VICTIM,
            actor=actor,
            victim_id=victim_id,
            detail=f"{reason}"
            + (f"; open cases confirmed: {len(still_open)}" if still_open else "")
            + (f"; {summary}" if summary else ""),
        )
    counts["tracker_events"] += tracker.erase(tracker_url, public_ids)
    return Erased(victim_id, counts)
