"""Console sessions held on the server, so that they can be ended there.

The browser holds a random token (in Flask's signed session cookie); the server holds its
SHA-256 in `officer_sessions`. A request's session is valid while its row is not ended, it
has been used within the idle timeout (`CONSOLE_IDLE_MINUTES`), and it began less than
`CONSOLE_MAX_HOURS` ago. A copied cookie is therefore worth nothing after sign-out, after a
change to the officer's password, role or second factor, or after their account is
deactivated: each of these ends every session of the officer (`end_all`), so signing out
at one computer also closes one left open at another.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import Officer, OfficerSession, utcnow
from models.db import rows_updated


@dataclass(frozen=True)
class Lifetime:
    """How long a session may go unused, and how long it may last at all."""

    idle: dt.timedelta
    maximum: dt.timedelta


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start(session: Session, officer: Officer) -> str:
    """A new session for `officer`; the token for the browser (shown nowhere else)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        OfficerSession(
            officer_id=officer.id, token_hash=_digest(token), started_at=now, last_seen_at=now
        )
    )
    session.flush()
    return token


@dataclass(frozen=True)
class Check:
    """A session looked up: its officer when valid, else why it is not (None: unknown)."""

    officer: Officer | None
    ended: str | None = None


def check(session: Session, token: str, lifetime: Lifetime, touch: bool) -> Check:
    """Whether the session with `token` may be used now; ends it if its time has run out.

    `touch` records activity (the page's own live updates do not count as activity).
    """
    row = session.scalar(select(OfficerSession).where(OfficerSession.token_hash == _digest(token)))
    if row is None:
        return Check(None)
    if row.ended_at is not None:
        return Check(None, row.end_reason)
    now = utcnow()
    reason = None
    if now - row.started_at >= lifetime.maximum:
        reason = "expired"
    elif now - row.last_seen_at >= lifetime.idle:
        reason = "idle"
    officer = session.get(Officer, row.officer_id)
    if reason is None and (officer is None or not officer.active):
        reason = "deactivated"
    if reason is not None:
        row.ended_at, row.end_reason = now, reason
        return Check(None, reason)
    if touch:
        row.last_seen_at = now
    return Check(officer)


def end_all(session: Session, officer: Officer, reason: str) -> int:
    """End every session of `officer` (sign-out, a changed password, role or second factor,
    a deactivated account); how many were open."""
    return rows_updated(
        session,
        update(OfficerSession)
        .where(OfficerSession.officer_id == officer.id, OfficerSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason),
    )
