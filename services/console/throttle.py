"""Throttles: at most so many attempts under one key in a window, then a pause that doubles.

Sign-in is throttled by account and by client address, and refused registrations of a
victim already known by the officer or case system that tried. An attempt is *reserved*
before it is tried, by one conditional UPDATE (`attempts < limit`), in a transaction of its
own: so twenty requests at once get at most `limit` tries between them, on SQLite and
PostgreSQL alike, and not twenty (the database serialises the UPDATEs on the key's row).

When a key reaches its limit it is paused: for `window`, then twice that at the next
strike, and so on up to MAX_PAUSE; a day with no attempt forgets the strikes. A success may
give its attempt back (`release`) or clear the key (`clear`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models import Throttle, utcnow
from models.db import Database, rows_updated

MAX_PAUSE = dt.timedelta(hours=24)
# Strikes are forgotten after this long without an attempt.
FORGET_AFTER = dt.timedelta(hours=24)


@dataclass(frozen=True)
class Limit:
    """`attempts` in `window`; the first pause lasts `window`."""

    attempts: int
    window: dt.timedelta


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    # When the key may be tried again (when refused).
    retry_at: dt.datetime | None = None


def _ensure(session: Session, key: str, now: dt.datetime) -> None:
    # INSERT ... ON CONFLICT DO NOTHING: two first attempts at once make one row.
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(Throttle)
        .values(key=key, attempts=0, window_started_at=now, strikes=0)
        .on_conflict_do_nothing()
    )


def reserve(db: Database, key: str, limit: Limit) -> Verdict:
    """Take one attempt under `key`, committed at once; refused while paused or at the limit.

    The caller then tries (a password, a registration) and gives the attempt back with
    `release` or `clear` if it succeeded.
    """
    now = utcnow()
    with db.session() as session:
        _ensure(session, key, now)
        not_paused = or_(Throttle.blocked_until.is_(None), Throttle.blocked_until <= now)
        # A day without attempts forgets the strikes; a window that has run out starts anew.
        rows_updated(
            session,
            update(Throttle)
            .where(Throttle.key == key, Throttle.last_attempt_at < now - FORGET_AFTER)
            .values(strikes=0),
        )
        rows_updated(
            session,
            update(Throttle)
            .where(
                Throttle.key == key,
                Throttle.window_started_at <= now - limit.window,
                not_paused,
            )
            .values(attempts=0, window_started_at=now),
        )
        taken = rows_updated(
            session,
            update(Throttle)
            .where(Throttle.key == key, Throttle.attempts < limit.attempts, not_paused)
            .values(attempts=Throttle.attempts + 1, last_attempt_at=now),
        )
        if taken:
            return Verdict(True)
        throttle = session.get_one(Throttle, key)
        session.refresh(throttle)
        if throttle.blocked_until is not None and throttle.blocked_until > now:
            return Verdict(False, throttle.blocked_until)
        # The limit is reached: pause, longer at each strike.
        pause = min(limit.window * (2 ** min(throttle.strikes, 16)), MAX_PAUSE)
        throttle.blocked_until = now + pause
        throttle.strikes += 1
        throttle.attempts = 0
        throttle.window_started_at = now + pause
        throttle.last_attempt_at = now
        return Verdict(False, throttle.blocked_until)


def release(db: Database, key: str) -> None:
    """Give one reserved attempt back (it succeeded): only failures count."""
    with db.session() as session:
        rows_updated(
            session,
            update(Throttle)
            .where(Throttle.key == key, Throttle.attempts > 0)
            .values(attempts=Throttle.attempts - 1),
        )


def clear(db: Database, *keys: str) -> None:
    """Forget the attempts, strikes and pause of `keys` (a success, or an admin's unlock)."""
    with db.session() as session:
        rows_updated(
            session,
            update(Throttle)
            .where(Throttle.key.in_(keys))
            .values(attempts=0, strikes=0, blocked_until=None),
        )


def forget(session: Session, keys: tuple[str, ...] = (), prefixes: tuple[str, ...] = ()) -> None:
    """Like `clear`, in the caller's transaction, for keys and every key under prefixes."""
    matches = [Throttle.key.in_(keys)] + [
        Throttle.key.startswith(p, autoescape=True) for p in prefixes
    ]
    rows_updated(
        session,
        update(Throttle).where(or_(*matches)).values(attempts=0, strikes=0, blocked_until=None),
    )


def paused_until(
    session: Session, keys: tuple[str, ...] = (), prefixes: tuple[str, ...] = ()
) -> dt.datetime | None:
    """When the last pause among `keys` (and keys under `prefixes`) ends, if any holds now."""
    matches = [Throttle.key.in_(keys)] + [
        Throttle.key.startswith(p, autoescape=True) for p in prefixes
    ]
    until = session.scalar(
        select(func.max(Throttle.blocked_until)).where(
            or_(*matches), Throttle.blocked_until > utcnow()
        )
    )
    return until
