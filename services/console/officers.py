"""Officers' accounts: creating them, signing in (with a lock after failures), changing them."""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from models import AuditAction, Officer, OfficerRole, utcnow
from models.db import rows_updated
from services.console import audit
from services.errors import Conflict, InvalidField

log = logging.getLogger(__name__)

MAX_FAILED_LOGINS = 5
LOCK_FOR = dt.timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
# Checked when the name is unknown, so that a wrong name takes as long as a wrong password
# and the timing does not tell which names exist.
_DUMMY_HASH = generate_password_hash("not-a-password-of-anyone")


def hash_password(password: str) -> str:
    """A salted scrypt hash (werkzeug.security's default method)."""
    return generate_password_hash(password, method="scrypt")


def _check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidField("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")
    return password


def create(
    session: Session,
    username: str,
    display_name: str,
    role: OfficerRole | str,
    password: str,
    created_by: Officer | None = None,
) -> Officer:
    """A new officer; Conflict when the username is taken."""
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise InvalidField(
            "username", "2 to 64 lower-case letters, digits, dots, dashes or underscores"
        )
    display_name = display_name.strip()
    if not display_name or len(display_name) > 200:
        raise InvalidField("display_name", "is required (at most 200 characters)")
    try:
        role = OfficerRole(role)
    except ValueError:
        raise InvalidField("role", "must be officer, supervisor or admin") from None
    if session.scalar(select(Officer.id).where(Officer.username == username)) is not None:
        raise Conflict(f"officer {username!r} exists already")
    officer = Officer(
        username=username,
        display_name=display_name,
        role=role,
        password_hash=hash_password(_check_password(password)),
        active=True,
        failed_logins=0,
    )
    session.add(officer)
    session.flush()
    audit.record(
        session,
        created_by,
        AuditAction.CREATE_OFFICER,
        actor=created_by.username if created_by else "cli",
        detail=f"created {username} ({role.value})",
    )
    return officer


def by_username(session: Session, username: str) -> Officer | None:
    return session.scalar(select(Officer).where(Officer.username == username.strip().lower()))


@dataclass(frozen=True)
class LoginResult:
    officer: Officer | None
    # Why not, in words fit for the login page ("locked" says until when, nothing else does).
    refused: str | None = None


WRONG = "Wrong username or password."


def authenticate(session: Session, username: str, password: str) -> LoginResult:
    """Check a sign-in; count failures, and lock the account for 15 minutes at the fifth.

    Every attempt is audited. The caller commits even a refusal: the counter must stick.
    """
    now = utcnow()
    officer = by_username(session, username)
    if officer is None:
        check_password_hash(_DUMMY_HASH, password)
        audit.record(session, None, AuditAction.LOGIN_FAILED, actor=username, detail="unknown")
        return LoginResult(None, WRONG)
    if officer.locked_until is not None and officer.locked_until > now:
        audit.record(session, officer, AuditAction.LOGIN_FAILED, detail="locked")
        until = officer.locked_until.strftime("%H:%M UTC")
        return LoginResult(None, f"This account is locked after too many failures until {until}.")
    if not check_password_hash(officer.password_hash, password) or not officer.active:
        # One UPDATE with the arithmetic in SQL: two wrong guesses at once both count.
        rows_updated(
            session,
            update(Officer)
            .where(Officer.id == officer.id)
            .values(failed_logins=Officer.failed_logins + 1),
        )
        session.refresh(officer)
        detail = "wrong password" if officer.active else "inactive"
        if officer.failed_logins >= MAX_FAILED_LOGINS:
            officer.locked_until, officer.failed_logins = now + LOCK_FOR, 0
            detail += f"; locked for {int(LOCK_FOR.total_seconds() // 60)} minutes"
            log.warning("officer %s locked after %s failures", officer.id, MAX_FAILED_LOGINS)
        audit.record(session, officer, AuditAction.LOGIN_FAILED, detail=detail)
        return LoginResult(None, WRONG)
    officer.failed_logins, officer.locked_until, officer.last_login_at = 0, None, now
    audit.record(session, officer, AuditAction.LOGIN)
    return LoginResult(officer)


def change(
    session: Session,
    officer: Officer,
    by: Officer | None,
    *,
    role: OfficerRole | None = None,
    active: bool | None = None,
    password: str | None = None,
    unlock: bool = False,
) -> None:
    """Change an account (an admin in the console, or the CLI), and audit what changed."""
    changes = []
    if role is not None and role is not officer.role:
        officer.role = role
        changes.append(f"role={role.value}")
    if active is not None and active != officer.active:
        officer.active = active
        changes.append("active" if active else "deactivated")
    if password:
        officer.password_hash = hash_password(_check_password(password))
        changes.append("password")
    if unlock and (officer.locked_until or officer.failed_logins):
        officer.locked_until, officer.failed_logins = None, 0
        changes.append("unlocked")
    if changes:
        audit.record(
            session,
            by,
            AuditAction.CHANGE_OFFICER,
            actor=by.username if by else "cli",
            detail=f"{officer.username}: {', '.join(changes)}",
        )


def ensure(
    session: Session, username: str, display_name: str, role: OfficerRole, password: str
) -> bool:
    """Create the officer unless the username exists (the demo's officers); True if created."""
    if by_username(session, username) is not None:
        return False
    create(session, username, display_name, role, password)
    return True


def everyone(session: Session) -> list[Officer]:
    return list(session.scalars(select(Officer).order_by(Officer.username)))
