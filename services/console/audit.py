"""The audit trail: who did what, to which victim's data, and when; filtered and exported."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from models import AuditAction, AuditEvent, Channel, Officer, utcnow


@dataclass(frozen=True)
class Actor:
    """Who made a change, as the audit trail names them: an officer, the victim by text, the
    API, a CSV import, or the service itself."""

    name: str
    officer: Officer | None = None

    @classmethod
    def of(cls, officer: Officer) -> Actor:
        return cls(officer.username, officer)

    @classmethod
    def victim_by_text(cls, channel: Channel) -> Actor:
        return cls(f"victim by {channel.value}")


API = Actor("api")
CSV_IMPORT = Actor("csv import")
SERVICE = Actor("service")


def record(
    session: Session,
    officer: Officer | None,
    action: AuditAction,
    *,
    actor: str | None = None,
    victim_id: int | None = None,
    conversation_id: int | None = None,
    case_id: int | None = None,
    detail: str = "",
) -> AuditEvent:
    """Add one audit event to the caller's transaction (so it stands or falls with the act)."""
    event = AuditEvent(
        at=utcnow(),
        officer_id=officer.id if officer is not None else None,
        actor=(actor or (officer.username if officer is not None else "?"))[:64],
        action=action,
        victim_id=victim_id,
        conversation_id=conversation_id,
        case_id=case_id,
        detail=detail[:500],
    )
    session.add(event)
    return event


def record_by(
    session: Session,
    by: Actor,
    action: AuditAction,
    *,
    victim_id: int | None = None,
    conversation_id: int | None = None,
    case_id: int | None = None,
    detail: str = "",
) -> AuditEvent:
    """`record`, for whoever `by` is."""
    return record(
        session,
        by.officer,
        action,
        actor=by.name,
        victim_id=victim_id,
        conversation_id=conversation_id,
        case_id=case_id,
        detail=detail,
    )


@dataclass(frozen=True)
class AuditFilter:
    """What a supervisor narrows the trail to; None means any."""

    actor: str | None = None
    action: AuditAction | None = None
    victim_id: int | None = None
    since: dt.date | None = None
    until: dt.date | None = None  # inclusive

    def apply(self, query: Select[AuditEvent]) -> Select[AuditEvent]:
        if self.actor:
            query = query.where(AuditEvent.actor == self.actor)
        if self.action is not None:
            query = query.where(AuditEvent.action == self.action)
        if self.victim_id is not None:
            query = query.where(AuditEvent.victim_id == self.victim_id)
        if self.since is not None:
            query = query.where(AuditEvent.at >= _midnight(self.since))
        if self.until is not None:
            query = query.where(AuditEvent.at < _midnight(self.until + dt.timedelta(days=1)))
        return query


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def page(
    session: Session, where: AuditFilter, number: int = 1, size: int = 50
) -> tuple[list[AuditEvent], bool]:
    """One page of matching events, newest first, and whether there is a next page."""
    query = where.apply(select(AuditEvent)).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    rows = list(session.scalars(query.offset((number - 1) * size).limit(size + 1)))
    return rows[:size], len(rows) > size


def count(session: Session, where: AuditFilter) -> int:
    """How many events match."""
    total = session.scalar(where.apply(select(AuditEvent)).with_only_columns(func.count()))
    return int(total or 0)


COLUMNS = ["at", "actor", "action", "victim_id", "conversation_id", "case_id", "detail"]


def as_csv(events: Iterable[AuditEvent]) -> str:
    """Events as CSV (UTC times, ISO 8601), in the given order."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for e in events:
        writer.writerow(
            [
                e.at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
                e.actor,
                e.action.value,
                e.victim_id or "",
                e.conversation_id or "",
                e.case_id or "",
                # A cell that starts with = + - @ is a formula to a spreadsheet.
                "'" + e.detail if e.detail[:1] in ("=", "+", "-", "@") else e.detail,
            ]
        )
    return out.getvalue()


def export(session: Session, where: AuditFilter) -> str:
    """Every matching event as CSV, oldest first."""
    query = where.apply(select(AuditEvent)).order_by(AuditEvent.at, AuditEvent.id)
    return as_csv(session.scalars(query.execution_options(yield_per=1000)))
