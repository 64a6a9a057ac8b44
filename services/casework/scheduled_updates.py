"""Updates that a person schedules for a case's victims: create, list, change, cancel.

One path for the API and the console. Each update becomes one SCHEDULED notification per
victim on the case at that moment, so the rules of every notification apply to it: quiet
hours, opt-out, safe contact (a safe-contact victim is told only that there is an update)
and their channel. It can be changed or cancelled until it goes; once any victim's copy has
gone, it cannot (409), since the victims would be told different things.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    Case,
    CaseStatus,
    NotificationStatus,
    ScheduledUpdate,
    utcnow,
)
from services.casework import notifications
from services.casework.cases import find_case, moment, text_field
from services.errors import Conflict, InvalidField, NotFound

MAX_TEXT = 1000
MAX_ID = 2**31 - 1
# A time a moment in the past (clocks differ) means "now"; further back is a mistake.
PAST_SLACK = dt.timedelta(minutes=5)
FURTHEST_AHEAD = dt.timedelta(days=366)


def _send_at(raw: Any) -> dt.datetime:
    value = moment(raw, "send_at")
    now = utcnow()
    if value < now - PAST_SLACK:
        raise InvalidField("send_at", "must not be in the past")
    if value > now + FURTHEST_AHEAD:
        raise InvalidField("send_at", "must be within a year")
    return max(value.astimezone(dt.UTC), now)


def _texts(payload: dict[str, Any], current: ScheduledUpdate | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("text_en", "text_cy"):
        if name not in payload:
            continue
        value = payload[name]
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise InvalidField(name, "must be non-empty text, or null")
        out[name] = None if value is None else text_field(value, name, MAX_TEXT)
    if "bilingual" in payload:
        if not isinstance(payload["bilingual"], bool):
            raise InvalidField("bilingual", "must be true or false")
        out["bilingual"] = payload["bilingual"]
    en = out.get("text_en", current.text_en if current else None)
    cy = out.get("text_cy", current.text_cy if current else None)
    if not en and not cy:
        raise InvalidField("text_en", "text_en or text_cy (or both) is required")
    if out.get("bilingual", current.bilingual if current else False) and not (en and cy):
        raise InvalidField("bilingual", "needs both text_en and text_cy")
    return out


def create(
    session: Session, case_ref: str, payload: dict[str, Any], created_by: str | None = None
) -> ScheduledUpdate:
    """Schedule an update for every victim now on the case."""
    case = find_case(session, case_ref)
    if case.status is not CaseStatus.OPEN:
        raise Conflict(f"case {case_ref!r} is closed")
    if not case.victims:
        raise Conflict(f"case {case_ref!r} has no victims to tell")
    scheduled = ScheduledUpdate(
        case_id=case.id,
        send_at=_send_at(payload.get("send_at")),
        created_by=created_by,
        **{"bilingual": False, "text_en": None, "text_cy": None, **_texts(payload)},
    )
    session.add(scheduled)
    session.flush()
    notifications.plan_scheduled(session, scheduled)
    return scheduled


def for_case(session: Session, case_ref: str) -> list[ScheduledUpdate]:
    case = find_case(session, case_ref)
    return list(
        session.scalars(
            select(ScheduledUpdate)
            .where(ScheduledUpdate.case_id == case.id)
            .order_by(ScheduledUpdate.send_at, ScheduledUpdate.id)
        )
    )


def find(session: Session, case_ref: str, update_id: int) -> ScheduledUpdate:
    case = find_case(session, case_ref)
    # Ids are 32-bit integers in both databases; a larger number names nothing (and would
    # make the driver raise instead of finding nothing).
    scheduled = session.get(ScheduledUpdate, update_id) if 1 <= update_id <= MAX_ID else None
    if scheduled is None or scheduled.case_id != case.id:
        raise NotFound(f"no scheduled update {update_id} on case {case_ref!r}")
    return scheduled


def _still_waiting(scheduled: ScheduledUpdate, doing: str) -> None:
    if scheduled.cancelled_at is not None:
        raise Conflict(f"scheduled update {scheduled.id} was cancelled")
    if any(n.status is not NotificationStatus.PENDING for n in scheduled.notifications):
        raise Conflict(f"scheduled update {scheduled.id} has gone already; too late to {doing}")


def change(
    session: Session, case_ref: str, update_id: int, payload: dict[str, Any]
) -> ScheduledUpdate:
    """Change the time or the words of an update that has not gone yet."""
    scheduled = find(session, case_ref, update_id)
    _still_waiting(scheduled, "change it")
    for name, value in _texts(payload, scheduled).items():
        setattr(scheduled, name, value)
    if "send_at" in payload:
        scheduled.send_at = _send_at(payload["send_at"])
    scheduled.updated_at = utcnow()
    notifications.reschedule(scheduled)
    return scheduled


def cancel(session: Session, case_ref: str, update_id: int) -> ScheduledUpdate:
    """Withdraw an update that has not gone yet."""
    scheduled = find(session, case_ref, update_id)
    _still_waiting(scheduled, "cancel it")
    notifications.cancel_pending(session, scheduled.notifications, "cancelled before it went")
    scheduled.cancelled_at = utcnow()
    session.flush()
    for notification in scheduled.notifications:
        session.refresh(notification)
    return scheduled


def status(scheduled: ScheduledUpdate) -> str:
    """scheduled (waiting), sent (handed to the victims' phones), or cancelled."""
    if scheduled.cancelled_at is not None:
        return "cancelled"
    if any(n.status is NotificationStatus.PENDING for n in scheduled.notifications):
        return "scheduled"
    return "sent"


def as_json(scheduled: ScheduledUpdate, case: Case) -> dict[str, Any]:
    """A scheduled update as the API shows it, with its notifications (one per victim)."""
    return {
        "id": scheduled.id,
        "case_ref": case.case_ref,
        "send_at": notifications.iso(scheduled.send_at),
        "text_en": scheduled.text_en,
        "text_cy": scheduled.text_cy,
        "bilingual": scheduled.bilingual,
        "status": status(scheduled),
        "created_by": scheduled.created_by,
        "created_at": notifications.iso(scheduled.created_at),
        "notifications": [notifications.as_json(n) for n in scheduled.notifications],
    }
