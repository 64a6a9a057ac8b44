"""The audit trail: who did what, to which victim's data, and when; filtered and exported.

Every read and write of a victim's data has an actor: an officer (their username), a case
system (`api:<client name>`), the command line (`cli`, `cli:import-cases`) or the scheduler
(`scheduler`). An act records its event in its own transaction, so the two stand or fall
together; a refused attempt records its event in a transaction of its own (`refused`), so
it stays when the act is rolled back. The Data Protection Act 2018, section 62, requires
such logs of consultation, disclosure, alteration and erasure for law-enforcement
processing.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session

from models import AuditAction, AuditEvent, Channel, Officer, utcnow
from models.db import Database
from services import spreadsheet


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
CSV_IMPORT = Actor("cli:import-cases")
SERVICE = Actor("service")


def _storable(text: str) -> str:
    """`text` with control characters and lone surrogates written as escapes ("\\x00"), so the
    trail shows what was sent and every database can store it (PostgreSQL refuses NUL)."""
    return "".join(
        c
        if c.isprintable() and not 0xD800 <= ord(c) <= 0xDFFF
        else c.encode("unicode_escape", "backslashreplace").decode("ascii")
        for c in text
    )


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
        actor=_storable(actor or (officer.username if officer is not None else "?"))[:64],
        action=action,
        victim_id=victim_id,
        conversation_id=conversation_id,
        case_id=case_id,
        detail=_storable(detail)[:500],
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


# How long one audited view of a conversation (or the queue) covers the page's own live
# updates of it: the trail shows that the officer had it open, without a row every 2 s.
READ_COALESCE = dt.timedelta(minutes=5)


def record_read(
    session: Session,
    officer: Officer,
    action: AuditAction,
    *,
    victim_id: int | None = None,
    conversation_id: int | None = None,
    also: Iterable[AuditAction] = (),
) -> bool:
    """Audit a repeated read (the transcript's or the queue's live update) unless the same
    officer's read of the same thing (`action` or `also`) was audited in the last
    READ_COALESCE (5 minutes). True when a row was written."""
    since = utcnow() - READ_COALESCE
    recent = session.scalar(
        select(
            exists().where(
                AuditEvent.officer_id == officer.id,
                AuditEvent.action.in_([action, *also]),
                AuditEvent.conversation_id.is_(None)
                if conversation_id is None
                else AuditEvent.conversation_id == conversation_id,
                AuditEvent.at >= since,
            )
        )
    )
    if recent:
        return False
    record(session, officer, action, victim_id=victim_id, conversation_id=conversation_id)
    return True


def refused(
    db: Database,
    officer: Officer | int | None,
    detail: str,
    *,
    actor: str | None = None,
    victim_id: int | None = None,
    conversation_id: int | None = None,
    case_id: int | None = None,
) -> None:
    """Record a refused attempt in a transaction of its own and commit it at once: the
    refused act's own transaction is rolled back, and the attempt must not go with it.
    `officer` may be given by id (an officer loaded in another session)."""
    with db.session() as session:
        record(
            session,
            session.get(Officer, officer) if isinstance(officer, int) else officer,
            AuditAction.REFUSED,
            actor=actor,
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
    """Events as CSV (UTC times, ISO 8601), in the given order; every cell through the one
    CSV writer, which defuses formulas (an actor is whatever was typed at sign-in)."""
    rows = (
        [
            e.at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            e.actor,
            e.action.value,
            e.victim_id,
            e.conversation_id,
            e.case_id,
            e.detail,
        ]
        for e in events
    )
    return spreadsheet.write(itertools.chain([COLUMNS], rows))


def export(session: Session, where: AuditFilter) -> str:
    """Every matching event as CSV, oldest first."""
    query = where.apply(select(AuditEvent)).order_by(AuditEvent.at, AuditEvent.id)
    return as_csv(session.scalars(query.execution_options(yield_per=1000)))
