"""The retention schedule (config/retention.yml) and the purge that the scheduler runs.

Each kind of personal data is kept for a number of days (docs/PRIVACY.md gives each reason):

- a victim's messages (with their handoffs and survey answers), officers' notes, needs
  answers and referrals (with requests for a review): `days` after the victim's last case
  closed, and only what is itself older than that (a message sent after closing is kept its
  own full time). Nothing of a victim with an open case goes;
- the victim (name, number, date of birth, every remaining row): erased, exactly as on
  request (services/privacy/erasure.py), `victims` days after their last case closed;
- Rasa's tracker: the whole tracker of a conversation whose last event is older than
  `tracker_events` days;
- conversations with unregistered numbers, after their last message; Twilio's delivery
  callbacks and the dev phone's records, after they arrived; audit events, after they
  happened.

`purge` deletes all that is due, in batches of BATCH victims or conversations a transaction
(SQLite's write lock is never held long), and writes one `purge` audit event saying how
much of each it deleted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path

import yaml
from sqlalchemy import Select, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from models import (
    AuditAction,
    AuditEvent,
    Case,
    CaseStatus,
    CaseVictim,
    Conversation,
    DeliveryEvent,
    DevPhoneMessage,
    Handoff,
    Message,
    NeedsAnswer,
    NeedsAssessment,
    Notification,
    OfficerNote,
    OfficerSession,
    Referral,
    ReviewRequest,
    SurveyResponse,
    Throttle,
    Victim,
    utcnow,
)
from models.db import Database
from services.console import audit
from services.privacy import erasure, tracker

log = logging.getLogger(__name__)

BATCH = 200
# The console's working stores, kept no longer than they are useful: a sign-in throttle's
# usernames and client addresses two days after its last attempt (its strikes are forgotten
# after one), and an ended session's row a month after it ended (the audit trail keeps the
# sign-in and sign-out).
THROTTLES_FOR = dt.timedelta(days=2)
SESSIONS_FOR = dt.timedelta(days=30)
MAX_DAYS = 36500
ACTOR = "scheduler"


class RetentionError(ValueError):
    """The retention file cannot be used (the service refuses to start with it)."""


@dataclasses.dataclass(frozen=True)
class Schedule:
    """Days each kind of data is kept (the keys of config/retention.yml)."""

    messages: int
    notes: int
    needs_answers: int
    referrals: int
    victims: int
    tracker_events: int
    unregistered: int
    delivery_events: int
    dev_phone: int
    audit_events: int

    def cutoff(self, kind: str, now: dt.datetime) -> dt.datetime:
        """The moment before which data of `kind` has passed its time."""
        return now - dt.timedelta(days=getattr(self, kind))


KINDS = tuple(f.name for f in dataclasses.fields(Schedule))


def load(path: Path) -> Schedule:
    """The schedule in `path`; RetentionError saying what is wrong with it."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RetentionError(f"retention file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise RetentionError(f"retention file {path} is not YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise RetentionError(f"retention file {path}: expected a mapping of kind: days")
    missing = [k for k in KINDS if k not in raw]
    unknown = sorted(str(k) for k in raw if k not in KINDS)
    if missing or unknown:
        raise RetentionError(
            f"retention file {path}: "
            + "; ".join(
                part
                for part in (
                    f"missing {', '.join(missing)}" if missing else "",
                    f"unknown {', '.join(unknown)}" if unknown else "",
                )
                if part
            )
        )
    for kind in KINDS:
        days = raw[kind]
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
            raise RetentionError(
                f"retention file {path}: {kind} must be a whole number of days from 1 to "
                f"{MAX_DAYS}, not {days!r}"
            )
    return Schedule(**{k: raw[k] for k in KINDS})


def _closed_before(cutoff: dt.datetime) -> Select[int]:
    """Victims (not erased) on at least one case, all closed before `cutoff`."""
    still_open = exists().where(
        CaseVictim.victim_id == Victim.id,
        CaseVictim.case_id == Case.id,
        or_(Case.status != CaseStatus.CLOSED, Case.closed_at.is_(None), Case.closed_at >= cutoff),
    )
    on_a_case = exists().where(CaseVictim.victim_id == Victim.id)
    return (
        select(Victim.id)
        .where(Victim.erased_at.is_(None), on_a_case, ~still_open)
        .order_by(Victim.id)
    )


def _chunks(session: Session, query: Select[int]) -> Iterator[list[int]]:
    ids = list(session.scalars(query))
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


def _conversations_of(session: Session, victim_ids: list[int]) -> list[int]:
    addresses = erasure.addresses_of(session, victim_ids)
    return list(
        session.scalars(
            select(Conversation.id).where(
                or_(Conversation.victim_id.in_(victim_ids), Conversation.address.in_(addresses))
            )
        )
    )


def _count(session: Session, statement: object) -> int:
    result = session.execute(statement)  # type: ignore[call-overload]
    return int(result.rowcount or 0)


def _purge_messages(session: Session, victim_ids: list[int], cutoff: dt.datetime) -> dict[str, int]:
    talks = _conversations_of(session, victim_ids)
    old = select(Message.id).where(Message.conversation_id.in_(talks), Message.created_at < cutoff)
    sids = select(Message.twilio_sid).where(
        Message.id.in_(old.scalar_subquery()), Message.twilio_sid.is_not(None)
    )
    counts = {
        "delivery_events": _count(
            session, delete(DeliveryEvent).where(DeliveryEvent.twilio_sid.in_(sids))
        )
    }
    session.execute(
        update(Notification)
        .where(Notification.message_id.in_(old.scalar_subquery()))
        .values(message_id=None)
    )
    session.execute(
        update(Message)
        .where(Message.reply_to_id.in_(old.scalar_subquery()))
        .values(reply_to_id=None)
    )
    counts["messages"] = _count(
        session,
        delete(Message).where(Message.conversation_id.in_(talks), Message.created_at < cutoff),
    )
    # Referrals and review requests point at the handoffs that told the officer (and that a
    # referral was overdue); they have their own time.
    told = (
        select(Referral.handoff_id)
        .where(Referral.handoff_id.is_not(None))
        .union(
            select(Referral.overdue_handoff_id).where(Referral.overdue_handoff_id.is_not(None)),
            select(ReviewRequest.handoff_id).where(ReviewRequest.handoff_id.is_not(None)),
        )
    )
    counts["handoffs"] = _count(
        session,
        delete(Handoff).where(
            Handoff.conversation_id.in_(talks),
            Handoff.opened_at < cutoff,
            Handoff.id.not_in(told),
        ),
    )
    counts["survey_responses"] = _count(
        session,
        delete(SurveyResponse).where(
            SurveyResponse.victim_id.in_(victim_ids), SurveyResponse.answered_at < cutoff
        ),
    )
    return counts


def _purge_notes(session: Session, victim_ids: list[int], cutoff: dt.datetime) -> int:
    talks = _conversations_of(session, victim_ids)
    return _count(
        session,
        delete(OfficerNote).where(
            OfficerNote.conversation_id.in_(talks), OfficerNote.created_at < cutoff
        ),
    )


def _purge_needs(session: Session, victim_ids: list[int], cutoff: dt.datetime) -> int:
    old = select(NeedsAssessment.id).where(
        NeedsAssessment.victim_id.in_(victim_ids), NeedsAssessment.updated_at < cutoff
    )
    session.execute(delete(NeedsAnswer).where(NeedsAnswer.assessment_id.in_(old)))
    return _count(session, delete(NeedsAssessment).where(NeedsAssessment.id.in_(old)))


def _purge_referrals(session: Session, victim_ids: list[int], cutoff: dt.datetime) -> int:
    # Requests for a review are kept as long as referrals: both are the Code's record of what
    # the victim asked for and when it was done.
    reviews = _count(
        session,
        delete(ReviewRequest).where(
            ReviewRequest.victim_id.in_(victim_ids), ReviewRequest.created_at < cutoff
        ),
    )
    return reviews + _count(
        session,
        delete(Referral).where(Referral.victim_id.in_(victim_ids), Referral.created_at < cutoff),
    )


def _add(total: dict[str, int], more: dict[str, int]) -> None:
    for key, value in more.items():
        total[key] = total.get(key, 0) + value


def _unregistered(session: Session, cutoff: dt.datetime) -> Select[int]:
    last = (
        select(func.max(Message.created_at))
        .where(Message.conversation_id == Conversation.id)
        .scalar_subquery()
    )
    return (
        select(Conversation.id)
        .where(
            Conversation.victim_id.is_(None),
            Conversation.created_at < cutoff,
            or_(last.is_(None), last < cutoff),
        )
        .order_by(Conversation.id)
    )


def purge(db: Database, schedule: Schedule, tracker_url: str) -> dict[str, int]:
    """Delete everything whose time has passed (the rules above); how many of each.

    Audited as one `purge` event when anything went (and each victim erased, as an erasure).
    """
    now = utcnow()
    counts: dict[str, int] = {}

    with db.session() as session:
        due = list(session.scalars(_closed_before(schedule.cutoff("victims", now))))
    for victim_id in due:
        erasure.erase(db, victim_id, actor=ACTOR, tracker_url=tracker_url, reason="retention")
    counts["victims"] = len(due)

    steps = (
        ("messages", _purge_messages),
        ("notes", _purge_notes),
        ("needs_answers", _purge_needs),
        ("referrals", _purge_referrals),
    )
    for kind, step in steps:
        cutoff = schedule.cutoff(kind, now)
        with db.session() as session:
            chunks = list(_chunks(session, _closed_before(cutoff)))
        for chunk in chunks:
            with db.session() as session:
                done = step(session, chunk, cutoff)
            _add(counts, done if isinstance(done, dict) else {kind: done})

    with db.session() as session:
        chunks = list(
            _chunks(session, _unregistered(session, schedule.cutoff("unregistered", now)))
        )
    for chunk in chunks:
        with db.session() as session:
            public_ids = list(
                session.scalars(select(Conversation.public_id).where(Conversation.id.in_(chunk)))
            )
            _add(counts, {"unregistered_conversations": len(chunk)})
            _add(counts, erasure.delete_conversations(session, chunk))
        _add(counts, {"tracker_events": tracker.erase(tracker_url, public_ids)})

    _add(
        counts,
        {"tracker_events": tracker.purge_idle(tracker_url, schedule.cutoff("tracker_events", now))},
    )
    with db.session() as session:
        _add(
            counts,
            {
                "delivery_events": _count(
                    session,
                    delete(DeliveryEvent).where(
                        DeliveryEvent.received_at < schedule.cutoff("delivery_events", now)
                    ),
                ),
                "dev_phone_messages": _count(
                    session,
                    delete(DevPhoneMessage).where(
                        DevPhoneMessage.created_at < schedule.cutoff("dev_phone", now)
                    ),
                ),
                "audit_events": _count(
                    session,
                    delete(AuditEvent).where(AuditEvent.at < schedule.cutoff("audit_events", now)),
                ),
                "sign_in_throttles": _count(
                    session,
                    delete(Throttle).where(
                        or_(Throttle.blocked_until.is_(None), Throttle.blocked_until < now),
                        Throttle.window_started_at < now - THROTTLES_FOR,
                        or_(
                            Throttle.last_attempt_at.is_(None),
                            Throttle.last_attempt_at < now - THROTTLES_FOR,
                        ),
                    ),
                ),
                "ended_sessions": _count(
                    session,
                    delete(OfficerSession).where(OfficerSession.ended_at < now - SESSIONS_FOR),
                ),
            },
        )
    purged = {k: v for k, v in sorted(counts.items()) if v}
    if purged:
        with db.session() as session:
            audit.record(
                session,
                None,
                AuditAction.PURGE,
                actor=ACTOR,
                detail=", ".join(f"{k} {v}" for k, v in purged.items()),
            )
        log.info("retention purge: %s", purged)
    return purged
