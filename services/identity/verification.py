"""Whether whoever holds the phone has proved, lately and in this conversation, that they are
the victim: the date of birth on record (docs/SAFETY.md, "What needs a current identity check").

Verified or not is a fact held here, on the server, and only this module sets it. The
assistant asks for the date of birth (`ask`); the answer never reaches the bot as text. The
web app checks it as it arrives, or the worker does before the bot sees the message
(`screen`), stores "[date of birth given]" in its place, and leaves the outcome for the bot
to read (`take_outcome`). So no word a victim types can set it, and the date is never in our
messages table, the console or Rasa's tracker store.

- A verification lasts VERIFY_MINUTES (60), or VERIFY_MINUTES_SAFE_CONTACT (15) for a victim
  in safe-contact mode, and only in the conversation where it was given. It ends at
  hand-back, close, STOP (`Conversation.end_verification`) and at any lock.
- Wrong dates are counted for the victim, across channels and conversations. The third since
  the last success locks the check until midnight (London) and opens a normal handoff; any
  lock after that is held until an officer unlocks it (`unlock`) and opens a high one.
- A message that offers two different dates is no answer (nobody tries several guesses at
  once); a date-like answer that is no date ("31/02/1984") counts nothing.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, joinedload

from models import (
    AuditAction,
    Conversation,
    Direction,
    HandoffPriority,
    IdentityOutcome,
    Message,
    MessageStatus,
    Officer,
    Victim,
    utcnow,
)
from services.console import audit, handoffs
from services.identity import dates
from services.settings import Settings
from services.victims_code.calendar import LONDON

log = logging.getLogger(__name__)

MAX_FAILURES = 3
LOCKED_REASON = "identity check failed 3 times: locked until midnight"
HELD_REASON = "identity check locked again: an officer must check with the victim and unlock it"
# How long an asked question waits for its answer: Rasa's session (bot/domain.yml,
# session_expiration_time), after which the bot has forgotten it asked.
ANSWER_WINDOW = dt.timedelta(minutes=60)


class IdentityState(enum.StrEnum):
    VERIFIED = "verified"
    NEEDED = "needed"
    LOCKED = "locked"


def locked(victim: Victim, now: dt.datetime) -> bool:
    """Whether the victim's identity check is locked now (for a day, or until unlocked)."""
    if victim.identity_held:
        return True
    return victim.identity_locked_until is not None and victim.identity_locked_until > now


def state(conversation: Conversation, victim: Victim, now: dt.datetime) -> IdentityState:
    """Whether case details may be given in this conversation now: read it at the moment of
    disclosure, never from what the bot remembers."""
    if locked(victim, now):
        return IdentityState.LOCKED
    if conversation.verified_until is not None and conversation.verified_until > now:
        return IdentityState.VERIFIED
    return IdentityState.NEEDED


def lasts(victim: Victim, settings: Settings) -> dt.timedelta:
    """How long a verification holds: shorter for a victim in safe-contact mode."""
    minutes = (
        settings.verify_minutes_safe_contact if victim.safe_contact else settings.verify_minutes
    )
    return dt.timedelta(minutes=minutes)


def ask(conversation: Conversation, now: dt.datetime) -> None:
    """The assistant has asked for the date of birth: the next date is the answer."""
    conversation.dob_asked_at = now
    conversation.dob_outcome = None


def stop_asking(conversation: Conversation) -> None:
    """The question was left (for support, an officer, 999, or later)."""
    conversation.dob_asked_at = None


def awaiting(conversation: Conversation, now: dt.datetime) -> bool:
    """Whether the conversation's next date is an answer to the date-of-birth question."""
    asked = conversation.dob_asked_at
    return asked is not None and now - asked < ANSWER_WINDOW


def take_outcome(conversation: Conversation) -> IdentityOutcome | None:
    """What the latest answer came to (None: no date was given), once."""
    outcome, conversation.dob_outcome = conversation.dob_outcome, None
    return outcome


def _midnight_after(now: dt.datetime) -> dt.datetime:
    local = now.astimezone(LONDON)
    midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(0), tzinfo=LONDON)
    return midnight.astimezone(dt.UTC)


def _conversations_of(session: Session, victim: Victim) -> list[Conversation]:
    return list(session.scalars(select(Conversation).where(Conversation.victim_id == victim.id)))


def _lock(session: Session, conversation: Conversation, victim: Victim, now: dt.datetime) -> None:
    """Lock the check: for the day the first time, until an officer unlocks it after that.

    Someone is guessing, so every verification of this victim ends, on every channel.
    """
    victim.identity_failures = 0
    victim.identity_locks += 1
    if victim.identity_locks == 1:
        victim.identity_locked_until = _midnight_after(now)
        priority, reason = HandoffPriority.NORMAL, LOCKED_REASON
        until = "midnight"
    else:
        victim.identity_held, victim.identity_locked_until = True, None
        priority, reason = HandoffPriority.HIGH, HELD_REASON
        until = "an officer unlocks it"
    for each in _conversations_of(session, victim):
        # A question asked elsewhere stays asked: its answer is then told of the lock.
        each.verified_until = None
    handoffs.open_handoff(session, conversation, priority, reason)
    audit.record_by(
        session,
        audit.SERVICE,
        AuditAction.LOCK_IDENTITY,
        victim_id=victim.id,
        conversation_id=conversation.id,
        detail=f"{MAX_FAILURES} wrong dates of birth; locked until {until}",
    )
    log.warning("victim %s: identity check locked (%s)", victim.id, until)


def check(
    session: Session,
    conversation: Conversation,
    victim: Victim,
    given: dt.date | None,
    settings: Settings,
    now: dt.datetime,
) -> IdentityOutcome:
    """Check a date of birth given in `conversation` (None: no readable date), and record it.

    The count of wrong dates is one SQL increment: two channels answering at the same
    moment both count, on SQLite and PostgreSQL alike.
    """
    if locked(victim, now):
        return IdentityOutcome.LOCKED
    if victim.identity_locked_until is not None:
        victim.identity_locked_until = None  # the day's lock has run out
    if given is None:
        return IdentityOutcome.UNREADABLE
    if given == victim.date_of_birth:
        conversation.verified_until = now + lasts(victim, settings)
        victim.identity_failures = 0
        return IdentityOutcome.VERIFIED
    failures = session.execute(
        update(Victim)
        .where(Victim.id == victim.id)
        .values(identity_failures=Victim.identity_failures + 1)
        .returning(Victim.identity_failures)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    victim.identity_failures = failures
    log.info("victim %s: wrong date of birth (%s)", victim.id, failures)
    if failures < MAX_FAILURES:
        return IdentityOutcome.WRONG
    _lock(session, conversation, victim, now)
    return IdentityOutcome.LOCKED


@dataclass(frozen=True)
class Screened:
    """A message as it must be stored, and the check it carries (run once it is stored)."""

    body: str
    apply: Callable[[], IdentityOutcome] | None = None


def screen(
    session: Session,
    conversation: Conversation,
    victim: Victim | None,
    text: str,
    settings: Settings,
    now: dt.datetime,
    ask_may_follow: bool = False,
) -> Screened:
    """What to store of `text`, and the identity check it is, if any.

    While the date of birth is asked for, any date-like part is the answer (checked, and
    replaced by dates.MARK). At any other time the victim's own date of birth, wherever it
    appears, is replaced, and nothing is checked: a date nobody asked for never verifies,
    or guesses could be sent uncounted.

    `ask_may_follow`: earlier messages of the conversation are still to be read, so the
    question may yet be asked before this one is; then it is left as sent, for the worker to
    screen when its turn comes (so that it is checked like any answer, and no reply tells a
    right date from a wrong one).
    """
    if victim is None:
        return Screened(text)
    today = now.astimezone(LONDON).date()
    if awaiting(conversation, now):
        found = dates.find(text, today, parts=True)
        if not found:
            return Screened(text)  # not an answer: the bot hears it (a question left, ...)
        given = dates.the_date(found)

        def apply() -> IdentityOutcome:
            outcome = check(session, conversation, victim, given, settings, now)
            conversation.dob_asked_at, conversation.dob_outcome = None, outcome
            return outcome

        return Screened(dates.redact(text, found), apply)
    if ask_may_follow:
        return Screened(text)
    own = [f for f in dates.find(text, today) if f.date == victim.date_of_birth]
    return Screened(dates.redact(text, own)) if own else Screened(text)


def for_bot(text: str, today: dt.date) -> str:
    """`text` as the bot may read it: every whole date blanked out, the victim's or not, so
    that nothing the bot says can depend on whether a date was their date of birth."""
    return dates.redact(text, [f for f in dates.find(text, today) if f.whole])


# Built once, not per message (bench/README.md, "Profile").
_WAITING = (
    select(Message.id)
    .where(
        Message.conversation_id == bindparam("conversation_id"),
        Message.direction == Direction.INBOUND,
        Message.status == MessageStatus.RECEIVED,
    )
    .limit(1)
)


def on_arrival(
    settings: Settings,
) -> Callable[[Session, int, str], tuple[str, Callable[[], object] | None]]:
    """The screen the web app runs on an inbound message before storing it
    (services/messaging/inbound.store_message), so that a date of birth is never written."""

    def screen_arriving(
        session: Session, conversation_id: int, text: str
    ) -> tuple[str, Callable[[], object] | None]:
        now = utcnow()
        if not dates.find(text, now.astimezone(LONDON).date(), parts=True):
            # Nothing date-like, whole or part: `screen` gives every such text back as sent
            # and checks nothing, whoever the victim and whatever was asked. So no query for
            # the conversation and its victim: most messages hold no date, and that load
            # was a tenth of the web app's CPU a message (bench/README.md, "fourth session").
            return text, None
        conversation = session.get(
            Conversation, conversation_id, options=[joinedload(Conversation.victim)]
        )
        if conversation is None:
            return text, None
        waiting = session.scalar(_WAITING, {"conversation_id": conversation_id})
        screened = screen(
            session,
            conversation,
            conversation.victim,
            text,
            settings,
            now,
            ask_may_follow=waiting is not None,
        )
        return screened.body, screened.apply

    return screen_arriving


def unlock(session: Session, victim: Victim, officer: Officer) -> None:
    """An officer has checked with the victim by another route: a fresh start."""
    was = "held" if victim.identity_held else "for the day"
    victim.identity_failures = victim.identity_locks = 0
    victim.identity_locked_until, victim.identity_held = None, False
    audit.record(
        session,
        officer,
        AuditAction.UNLOCK_IDENTITY,
        victim_id=victim.id,
        detail=f"identity check unlocked (was locked {was})",
    )
