"""Notifications: planning what a victim is told unprompted, and handing it to the outbox.

A notification is planned when its reason arises (a victim registered on a case, a
Victims' Code event recorded) and handed to the outbox by a worker when it is due. It goes
out at `deadlines.next_send_time(now, not_before=created_at, due_by, quiet_start,
quiet_end)`, on the victim's Europe/London quiet hours. The rule that function implements:
send at once unless now is inside the quiet hours; inside them, wait until they end (the
first moment London's clock reads `quiet_end`), unless that is at or after `due_by`
(exclusive): then send at once, inside the quiet hours, because the Code's limit outranks
them. So a notification that would be late if it waited goes now; one that can wait
without being late waits. The time is worked out when the notification is planned and
again when it is handed over, so a victim's quiet hours hold even if the worker was down.

Handing over is one small transaction per notification, and happens exactly once however
many workers run: a conditional UPDATE on the status (`... WHERE status = 'pending'`) is the
first write, and only the worker whose UPDATE changed the row writes the message.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import (
    Author,
    Case,
    CaseEvent,
    Conversation,
    Language,
    Notification,
    NotificationKind,
    NotificationStatus,
    Victim,
    utcnow,
)
from models.db import Database, rows_updated
from models.notifications import may_move
from scheduler import deadlines
from services import inbound, outbox
from services.texts import text

log = logging.getLogger(__name__)

# Bulk goes behind replies: a victim in conversation is answered before news is sent.
BULK_PRIORITY = 1
OPTED_OUT = "not sent: the victim has opted out of messages at this number"


def _plan(
    session: Session,
    victim: Victim,
    case: Case,
    kind: NotificationKind,
    event: CaseEvent | None = None,
) -> Notification:
    now = utcnow()
    due_by = deadlines.due_by(event.occurred_at, victim.enhanced_rights) if event else None
    notification = Notification(
        victim_id=victim.id,
        case_id=case.id,
        event_id=event.id if event else None,
        kind=kind,
        due_by=due_by,
        send_at=deadlines.next_send_time(now, now, due_by, victim.quiet_start, victim.quiet_end),
        status=NotificationStatus.PENDING,
        created_at=now,
    )
    session.add(notification)
    return notification


def plan_welcome(session: Session, case: Case, victim: Victim) -> Notification:
    """The welcome for a victim just put on a case."""
    notification = _plan(session, victim, case, NotificationKind.WELCOME)
    session.flush()
    return notification


def plan_for_event(session: Session, event: CaseEvent) -> list[Notification]:
    """One notification per victim on the case for a Code event; none for other events.

    Events the Code sets no limit for are told at the next agreed contact instead.
    """
    if event.type not in deadlines.CODE_EVENTS:
        return []
    case = session.get_one(Case, event.case_id)
    planned = [
        _plan(session, place.victim, case, NotificationKind.CODE_UPDATE, event)
        for place in case.victims
    ]
    session.flush()
    return planned


def body(notification: Notification) -> str:
    """The message for a notification, in its victim's language, as safe contact allows."""
    victim, case = notification.victim, notification.case
    language = victim.language
    if notification.kind is NotificationKind.WELCOME:
        if victim.safe_contact:
            return text("welcome_safe", language)
        return text("welcome", language, case_ref=case.case_ref)
    if victim.safe_contact:
        # Someone else may read this phone: nothing about the case until they reply.
        return text("code_update_safe", language)
    event = notification.event
    assert event is not None
    summary = event.summary_cy if language is Language.CY and event.summary_cy else event.summary
    return text("code_update", language, case_ref=case.case_ref, summary=summary)


def _claim(
    session: Session, notification_id: int, to: NotificationStatus, reason: str | None = None
) -> bool:
    """Move a pending notification to `to`; False when another worker moved it first."""
    assert may_move(NotificationStatus.PENDING, to)
    return bool(
        rows_updated(
            session,
            update(Notification)
            .where(
                Notification.id == notification_id,
                Notification.status == NotificationStatus.PENDING,
            )
            .values(status=to, status_reason=reason),
        )
    )


def hand_over(session: Session, notification_id: int) -> bool:
    """Put one due notification in the outbox (or suppress it); True when this call did."""
    notification = session.get(Notification, notification_id)
    if notification is None or notification.status is not NotificationStatus.PENDING:
        return False
    victim = notification.victim
    now = utcnow()
    send_at = deadlines.next_send_time(
        now, notification.created_at, notification.due_by, victim.quiet_start, victim.quiet_end
    )
    if send_at > now:
        # Quiet hours began while it waited (or the victim changed them): wait them out.
        rows_updated(
            session,
            update(Notification)
            .where(
                Notification.id == notification_id,
                Notification.status == NotificationStatus.PENDING,
            )
            .values(send_at=send_at),
        )
        return False
    conversation = session.get_one(
        Conversation, inbound.conversation_id_for(session, victim.address)
    )
    if conversation.opted_out_at is not None:
        if _claim(session, notification_id, NotificationStatus.SUPPRESSED, OPTED_OUT):
            log.info("notification %s suppressed: opted out", notification_id)
            return True
        return False
    if not _claim(session, notification_id, NotificationStatus.QUEUED):
        return False
    message = outbox.enqueue(
        session, conversation, body(notification), Author.SYSTEM, priority=BULK_PRIORITY
    )
    rows_updated(
        session,
        update(Notification)
        .where(Notification.id == notification_id)
        .values(message_id=message.id),
    )
    log.info("notification %s queued as message %s", notification_id, message.id)
    return True


def due(session: Session, limit: int = 500) -> list[int]:
    """Pending notifications whose time has come, oldest first."""
    return list(
        session.scalars(
            select(Notification.id)
            .where(
                Notification.status == NotificationStatus.PENDING,
                Notification.send_at <= utcnow(),
            )
            .order_by(Notification.send_at, Notification.id)
            .limit(limit)
        )
    )


def hand_over_due(db: Database, limit: int = 500) -> int:
    """Hand every due notification to the outbox, one transaction each; how many this did."""
    with db.session() as session:
        ids = due(session, limit)
    handed = 0
    for notification_id in ids:
        try:
            with db.session() as session:
                handed += hand_over(session, notification_id)
        except Exception:
            # One bad notification must not hold back the others; it is tried again later.
            log.exception("notification %s: hand-over failed", notification_id)
    return handed


def for_case(session: Session, case: Case) -> list[Notification]:
    """A case's notifications, oldest first."""
    return list(
        session.scalars(
            select(Notification).where(Notification.case_id == case.id).order_by(Notification.id)
        )
    )


def for_event(session: Session, event: CaseEvent) -> list[Notification]:
    """An event's notifications, one per victim on its case (none for a non-Code event)."""
    return list(
        session.scalars(
            select(Notification).where(Notification.event_id == event.id).order_by(Notification.id)
        )
    )


def as_json(notification: Notification) -> dict[str, Any]:
    """A notification as the API shows it (contract)."""
    n = notification
    return {
        "id": n.id,
        "victim_id": n.victim_id,
        "event_id": n.event_id,
        "kind": n.kind.value,
        "due_by": _iso(n.due_by),
        "sent_at": _iso(n.sent_at),
        "status": n.status.value,
        "within_code": n.within_code,
    }


def _iso(value: dt.datetime | None) -> str | None:
    # Stored and read back as aware UTC (UTCDateTime): ISO 8601 with a Z.
    return None if value is None else value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
