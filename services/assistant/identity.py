"""Proving who is texting before any case detail: the date of birth on record.

A verification holds on the conversation for VERIFY_HOURS (environment, 24 by default).
Three wrong dates of birth in a row lock case details until midnight, Europe/London time,
and open a normal-priority handoff so that an officer can check on the victim.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import os
import re

from sqlalchemy.orm import Session

from models import Conversation, HandoffPriority, Victim
from services.console import handoffs
from services.language import wording
from services.victims_code.calendar import LONDON

log = logging.getLogger(__name__)

DEFAULT_VERIFY_HOURS = 24.0
MAX_FAILURES = 3
LOCKED_REASON = "identity check failed 3 times"


class IdentityState(enum.StrEnum):
    VERIFIED = "verified"
    NEEDED = "needed"
    LOCKED = "locked"


class CheckOutcome(enum.StrEnum):
    VERIFIED = "verified"
    # A date, but not theirs.
    WRONG = "wrong"
    # The third wrong date: locked for the day.
    LOCKED = "locked"
    # Not a date at all: ask again, counting nothing.
    UNREADABLE = "unreadable"


def verify_hours() -> float:
    """How long a verification lasts, from VERIFY_HOURS."""
    raw = os.environ.get("VERIFY_HOURS")
    return float(raw) if raw else DEFAULT_VERIFY_HOURS


def state(conversation: Conversation, now: dt.datetime) -> IdentityState:
    """Whether case details may be given in this conversation now."""
    if conversation.verify_locked_until is not None and conversation.verify_locked_until > now:
        return IdentityState.LOCKED
    if conversation.verified_until is not None and conversation.verified_until > now:
        return IdentityState.VERIFIED
    return IdentityState.NEEDED


_NUMERIC = re.compile(r"^(\d{1,2})[./\-\s]+(\d{1,2})[./\-\s]+(\d{2}|\d{4})$")
_ISO = re.compile(r"^(\d{4})[./\-\s]+(\d{1,2})[./\-\s]+(\d{1,2})$")
_DIGITS = re.compile(r"^(\d{2})(\d{2})(\d{2}|\d{4})$")
_DAY_MONTH_YEAR = re.compile(
    r"^(\d{1,2})(?:st|nd|rd|th|af|il|ydd|fed|eg)?\s+(?:of\s+|o\s+)?([a-z]+)\s+(\d{2}|\d{4})$"
)
_MONTH_DAY_YEAR = re.compile(r"^([a-z]+)\s+(\d{1,2})(?:st|nd|rd|th)?\s+(\d{2}|\d{4})$")


def _year(text: str, today: dt.date) -> int:
    year = int(text)
    if len(text) == 2:
        # "84" is 1984 and "05" is 2005: a victim is never born in the future.
        year += 2000 if 2000 + year <= today.year else 1900
    return year


def parse_date_of_birth(text: str, today: dt.date | None = None) -> dt.date | None:
    """A date of birth as people text it (day first, UK style), or None.

    "2/3/1984", "02.03.84", "020384", "1984-03-02", "2 March 1984", "2nd of March 84",
    "March 2 1984", "2 Mawrth 1984", "2il o Fawrth 1984".
    """
    today = today or dt.date.today()
    cleaned = re.sub(r"[,']", " ", text.lower())
    cleaned = re.sub(r"\s+", " ", cleaned).strip(" .!?")
    parts: tuple[int, int, int] | None = None
    if m := _NUMERIC.match(cleaned):
        parts = (_year(m[3], today), int(m[2]), int(m[1]))
    elif m := _ISO.match(cleaned):
        parts = (int(m[1]), int(m[2]), int(m[3]))
    elif m := _DIGITS.match(cleaned):
        parts = (_year(m[3], today), int(m[2]), int(m[1]))
    elif m := _DAY_MONTH_YEAR.match(cleaned):
        month = wording.month_number(m[2])
        parts = (_year(m[3], today), month, int(m[1])) if month else None
    elif m := _MONTH_DAY_YEAR.match(cleaned):
        month = wording.month_number(m[1])
        parts = (_year(m[3], today), month, int(m[2])) if month else None
    if parts is None:
        return None
    try:
        born = dt.date(*parts)
    except ValueError:
        return None
    return born if born <= today else None


def _midnight_after(now: dt.datetime) -> dt.datetime:
    local = now.astimezone(LONDON)
    return dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(0), tzinfo=LONDON)


def check(
    session: Session, conversation: Conversation, victim: Victim, text: str, now: dt.datetime
) -> CheckOutcome:
    """Check a date of birth given in this conversation, and record the outcome."""
    if state(conversation, now) is IdentityState.LOCKED:
        return CheckOutcome.LOCKED
    if conversation.verify_locked_until is not None:
        # Yesterday's lock has run out: a fresh start.
        conversation.verify_locked_until, conversation.verify_failures = None, 0
    given = parse_date_of_birth(text, now.astimezone(LONDON).date())
    if given is None:
        return CheckOutcome.UNREADABLE
    if given == victim.date_of_birth:
        conversation.verified_until = now + dt.timedelta(hours=verify_hours())
        conversation.verify_failures = 0
        return CheckOutcome.VERIFIED
    conversation.verify_failures += 1
    log.info(
        "conversation %s: wrong date of birth (%s)", conversation.id, conversation.verify_failures
    )
    if conversation.verify_failures < MAX_FAILURES:
        return CheckOutcome.WRONG
    conversation.verify_locked_until = _midnight_after(now).astimezone(dt.UTC)
    handoffs.open_handoff(session, conversation, HandoffPriority.NORMAL, LOCKED_REASON)
    return CheckOutcome.LOCKED
