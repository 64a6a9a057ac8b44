"""The outbox: every outbound message is written here first, then handed to Twilio.

Sending is crash-safe: a message is marked SUBMITTING (committed) before the request to
Twilio, and anything found SUBMITTING by a later lease holder is looked up at Twilio
before it is sent again, so that a crash mid-request neither loses nor doubles it.

Urgent messages (999 guidance) go another way: not in the conversation's order, under its
lease, but by whichever worker claims each first (`claim_urgent`, a conditional UPDATE on the
message row). A worker waiting on Rasa for the same conversation holds the lease for up to
RASA_TIMEOUT_SECONDS; the answer to a cry for help must not wait behind it. The claim has
the lease's guarantees on one row: it runs out if its worker dies (at once for a dead local
process), and whoever takes it over asks Twilio first.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import Integer, and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session, joinedload

from models import (
    Author,
    Channel,
    Conversation,
    Direction,
    Message,
    MessageStatus,
    SentAs,
    utcnow,
)
from models.db import rows_updated
from services.messaging import inbound, leases, phones, wake
from services.messaging.ratelimit import RateLimiter
from services.messaging.retry import next_attempt
from services.messaging.segments import segments, split_body
from services.messaging.settlement import OnSettled
from services.messaging.twilio_gateway import Accepted, SendFailed, TwilioGateway
from services.settings import Settings

log = logging.getLogger(__name__)

# Twilio's message dates have one-second resolution and its clock is not ours.
CLOCK_SLACK = dt.timedelta(minutes=2)

# The priority of urgent messages: below replies (0) and bulk (1), so they go first at the
# rate limiter too, and sent without the conversation's lease (`claim_urgent`).
URGENT = -1


def enqueue(
    session: Session,
    conversation: Conversation,
    body: str,
    author: Author,
    *,
    reply_to: Message | None = None,
    reply_seq: int | None = None,
    priority: int = 0,
    bypass_opt_out: bool = False,
) -> Message:
    """Write an outbound message to the outbox (a worker sends it); the message written.

    A body longer than Twilio takes in one message (1,600 characters, error 21617) is
    written as numbered parts in order (segments.split_body); the first is returned, and
    each later part points at it (`part_of_id`). The outbox sends a conversation's messages
    one at a time in order, later parts straight after their first (`next_due`).
    """
    first: Message | None = None
    for part in split_body(body):
        message = Message(
            conversation_id=conversation.id,
            direction=Direction.OUTBOUND,
            author=author,
            body=part,
            status=MessageStatus.PENDING,
            next_attempt_at=utcnow(),
            # Only the first part is the numbered reply: the rest are written with it, in the
            # same transaction, so they too are written once.
            reply_to_id=reply_to.id if reply_to and first is None else None,
            reply_seq=reply_seq if first is None else None,
            priority=priority,
            bypass_opt_out=bypass_opt_out,
            part_of_id=first.id if first is not None else None,
        )
        session.add(message)
        session.flush()
        first = first or message
    assert first is not None
    if priority <= URGENT:
        wake.note_new_work(session)  # sent by a look, never by the conversation's drain
    return first


def parts(session: Session, first: Message) -> list[Message]:
    """The messages that carry the text `first` begins: itself, then its later parts."""
    return [
        first,
        *session.scalars(
            select(Message).where(Message.part_of_id == first.id).order_by(Message.id)
        ),
    ]


# A conversation's messages waiting to be sent through its lease, and the order they go in.
# Urgent messages are claimed one by one, never through the lease (`claim_urgent`). A text's
# later parts go straight after its first, whatever was written meanwhile. Shared with the
# worker's one look at a conversation's next step (processing._NEXT_WORK), so that both
# always agree on which message is first.
UNSENT = and_(
    Message.direction == Direction.OUTBOUND,
    Message.status.in_([MessageStatus.PENDING, MessageStatus.SUBMITTING]),
    Message.priority > URGENT,
)
SEND_ORDER = (Message.priority, func.coalesce(Message.part_of_id, Message.id), Message.id)

# Built once: building a statement per call cost more CPU than running it (bench/README.md,
# "Profile"); the worker runs these for every step.
_NEXT_DUE = (
    select(Message)
    .where(Message.conversation_id == bindparam("conversation_id"), UNSENT)
    .order_by(*SEND_ORDER)
    .limit(1)
    .options(joinedload(Message.conversation))
)


def next_due(session: Session, conversation_id: int) -> Message | None:
    """The conversation's first unsent message, if it is due; later ones wait behind it."""
    return _due(session.scalar(_NEXT_DUE, {"conversation_id": conversation_id}))


def _due(head: Message | None) -> Message | None:
    """`head`, the conversation's first unsent message, if it may be sent now."""
    if head is None:
        return None
    if head.status is MessageStatus.SUBMITTING:
        # We hold the lease, so whoever marked this is gone: it may or may not have reached
        # Twilio.
        head.status = MessageStatus.PENDING
        head.needs_reconcile = True
        head.next_attempt_at = utcnow()
    if head.next_attempt_at and head.next_attempt_at > utcnow():
        return None
    return head


def _record_accepted(
    session: Session, message: Message, accepted: Accepted, on_settled: OnSettled
) -> None:
    # Before any write: a status callback for this SID may be committing right now.
    inbound.hold_sid(session, accepted.sid)
    message.twilio_sid = accepted.sid
    message.status = MessageStatus.ACCEPTED
    message.status_at = utcnow()
    message.needs_reconcile = False
    message.error_code = None
    message.error_message = None
    on_settled(session, message)
    session.flush()
    # Status callbacks that raced ahead of this commit are waiting; apply them now.
    inbound.apply_delivery_events(session, accepted.sid, on_settled, message)


@dataclass(frozen=True)
class Submission:
    """One message on its way to Twilio: what the request needs, taken from its row."""

    message_id: int
    to: str
    channel: Channel
    body: str
    reconcile: bool
    since: dt.datetime
    content_sid: str | None = None
    content_variables: str | None = None
    # Lower goes first (replies before bulk): the rate limiter serves them in that order.
    priority: int = 0
    # The worker that claimed an urgent message (None: sent under the conversation's lease).
    claimed_by: str | None = None
    # When the conversation last heard from the victim, as it stood when this send began
    # (processing.drain lets the lease go only if it still stands so: _RELEASE_IF_IDLE).
    heard_at: dt.datetime | None = None


# WhatsApp takes free text only within 24 hours of the person's last message to us.
WHATSAPP_WINDOW = dt.timedelta(hours=24)


def route(message: Message, conversation: Conversation, now: dt.datetime) -> SentAs:
    """How a message must go: free text, a WhatsApp template, or SMS to the same phone."""
    if message.sent_as is SentAs.SMS or conversation.channel is Channel.SMS:
        return SentAs.SMS if conversation.channel is Channel.WHATSAPP else SentAs.TEXT
    last = conversation.last_inbound_at
    if last is not None and now - last < WHATSAPP_WINDOW:
        return SentAs.TEXT
    return SentAs.TEMPLATE if message.content_sid else SentAs.SMS


SUPPRESSED = "suppressed"


def start_send(
    session: Session, conversation_id: int, on_settled: OnSettled
) -> Submission | str | None:
    """Mark the conversation's next due message as being sent (in the caller's transaction).

    Returns what to send, SUPPRESSED when the message was dropped for an opt-out (and
    `on_settled` told), or None when nothing is due.
    """
    return start_head(
        session, session.scalar(_NEXT_DUE, {"conversation_id": conversation_id}), on_settled
    )


def start_head(
    session: Session, head: Message | None, on_settled: OnSettled
) -> Submission | str | None:
    """start_send, given the conversation's first unsent message (UNSENT, in SEND_ORDER,
    its conversation loaded) by a caller that looked it up already; None when it waits
    out a backoff, or there is none."""
    message = _due(head)
    if message is None:
        return None
    return _begin(session, message, on_settled)


def _begin(
    session: Session, message: Message, on_settled: OnSettled, claimed_by: str | None = None
) -> Submission | str:
    """Mark `message` SUBMITTING and say what to send, or suppress it for an opt-out."""
    conversation = message.conversation
    if conversation.opted_out_at and not message.bypass_opt_out:
        message.status = MessageStatus.SUPPRESSED
        message.error_message = "not sent: the recipient has opted out"
        message.claim_owner = message.claim_until = None
        on_settled(session, message)
        return SUPPRESSED
    now = utcnow()
    since = message.created_at - CLOCK_SLACK
    message.status = MessageStatus.SUBMITTING
    message.attempts += 1
    message.submitted_at = now
    message.sent_as = route(message, conversation, now)
    template = message.sent_as is SentAs.TEMPLATE
    by_sms = message.sent_as is SentAs.SMS
    return Submission(
        message_id=message.id,
        to=phones.split_address(conversation.address)[1] if by_sms else conversation.address,
        channel=Channel.SMS if by_sms else conversation.channel,
        body=message.body,
        reconcile=message.needs_reconcile,
        since=since,
        content_sid=message.content_sid if template else None,
        content_variables=message.content_variables if template else None,
        priority=message.priority,
        claimed_by=claimed_by,
        heard_at=conversation.last_inbound_at,
    )


_DUE_URGENT = (
    select(Message.id, Message.status, Message.claim_owner, Message.claim_until)
    .where(
        Message.direction == Direction.OUTBOUND,
        Message.priority <= URGENT,
        or_(
            and_(
                Message.status == MessageStatus.PENDING,
                Message.next_attempt_at <= bindparam("now", type_=Message.next_attempt_at.type),
            ),
            Message.status == MessageStatus.SUBMITTING,
        ),
    )
    .order_by(Message.id)
    .limit(bindparam("limit", type_=Integer))
)


def due_urgent(session: Session, limit: int = 100) -> list[int]:
    """Urgent messages any worker may claim now: due, or left mid-send by a claim that ran
    out or whose (local) worker died."""
    now = utcnow()
    rows = session.execute(_DUE_URGENT, {"now": now, "limit": limit})
    return [
        message_id
        for message_id, status, owner, until in rows
        if status is MessageStatus.PENDING
        or until is None
        or until < now
        or (owner is not None and leases.owner_is_dead(session, owner))
    ]


def claim_urgent(
    session: Session, message_id: int, owner: str, seconds: float, on_settled: OnSettled
) -> Submission | str | None:
    """Claim one urgent message for `owner` for `seconds` and mark it as being sent (in the
    caller's transaction).

    A conditional UPDATE: of any number of workers trying at once, one gets it. Returns what
    to send, SUPPRESSED (opted out since), or None when it is not (or no longer) claimable.
    A claim taken over from a worker that died mid-send asks Twilio before sending again.
    """
    now = utcnow()
    until = now + dt.timedelta(seconds=seconds)
    this = update(Message).where(
        Message.id == message_id,
        Message.direction == Direction.OUTBOUND,
        Message.priority <= URGENT,
    )
    free = or_(
        and_(Message.status == MessageStatus.PENDING, Message.next_attempt_at <= now),
        and_(
            Message.status == MessageStatus.SUBMITTING,
            or_(Message.claim_until.is_(None), Message.claim_until < now),
        ),
    )
    taken = rows_updated(session, this.where(free).values(claim_owner=owner, claim_until=until))
    if not taken:
        holder = session.scalar(
            select(Message.claim_owner).where(
                Message.id == message_id, Message.status == MessageStatus.SUBMITTING
            )
        )
        if holder is None or holder == owner or not leases.owner_is_dead(session, holder):
            return None
        taken = rows_updated(
            session,
            this.where(
                Message.status == MessageStatus.SUBMITTING, Message.claim_owner == holder
            ).values(claim_owner=owner, claim_until=until),
        )
        if not taken:
            return None
    message = session.get_one(
        Message,
        message_id,
        options=[joinedload(Message.conversation)],
        populate_existing=True,
    )
    if message.status is MessageStatus.SUBMITTING:
        # Its last sender may or may not have reached Twilio.
        message.needs_reconcile = True
    return _begin(session, message, on_settled, claimed_by=owner)


def deliver(
    twilio: TwilioGateway, limiter: RateLimiter, submission: Submission
) -> Accepted | SendFailed:
    """Hand the message to Twilio (outside any transaction), asking first if it may have it.

    Never raises: every failure comes back as a SendFailed, so the row never stays
    SUBMITTING for want of an answer. A failure before the message was offered to Twilio
    (the look-up, or pacing: Redis, say) has `attempted` False and costs no attempt.
    """
    s = submission
    try:
        found = twilio.find_sent(s.to, s.channel, s.body, s.since) if s.reconcile else None
        if found:
            return found
        # WhatsApp has no segments: one message is one.
        cost = segments(s.body) if s.channel is Channel.SMS else 1
        limiter.acquire(twilio.sender(s.channel), s.priority, cost)
    except SendFailed as exc:
        return exc
    except Exception as exc:  # noqa: BLE001 - not sent, whatever went wrong: try again
        log.exception("message %s: not sent, could not get ready to send", s.message_id)
        return SendFailed(f"not sent: {type(exc).__name__}", None, retry=True, attempted=False)
    try:
        return twilio.send(s.to, s.channel, s.body, s.content_sid, s.content_variables)
    except SendFailed as exc:
        return exc
    except Exception as exc:  # noqa: BLE001 - the request may have reached Twilio
        log.exception("message %s: unexpected error while sending", s.message_id)
        return SendFailed(
            f"unexpected error while sending: {type(exc).__name__}", None, True, ambiguous=True
        )


def finish_send(
    session: Session,
    submission: Submission,
    outcome: Accepted | SendFailed,
    settings: Settings,
    on_settled: OnSettled,
) -> None:
    """Record what Twilio said: the SID, a retry with backoff, or a permanent failure; tell
    `on_settled` when the message's fate is known."""
    message = session.get_one(Message, submission.message_id)
    if message.status is not MessageStatus.SUBMITTING:
        return
    if submission.claimed_by is not None and message.claim_owner != submission.claimed_by:
        return  # Our claim ran out and another worker took the message over: it is theirs.
    message.claim_owner = message.claim_until = None
    if isinstance(outcome, Accepted):
        # A look-up finds every message at Twilio with these words to this phone; those that
        # another row of ours holds (an earlier "Thank you.", the same words sent on the SMS
        # conversation of a WhatsApp one) are not this message. Taking one would break the
        # unique SID and leave the conversation stuck.
        candidates = [Accepted(outcome.sid, outcome.status), *outcome.also]
        held = (
            set(
                session.scalars(
                    select(Message.twilio_sid).where(
                        Message.twilio_sid.in_([c.sid for c in candidates]),
                        Message.id != message.id,
                    )
                )
            )
            if outcome.found
            else set()
        )
        mine = next((c for c in candidates if c.sid not in held), None)
        if mine is not None:
            _record_accepted(session, message, mine, on_settled)
            return
        # Every message Twilio has with these words is another's: this one never got there.
        # Sent at the next step, without asking again (not an attempt).
        log.warning("message %s: not at Twilio after all; sending it", submission.message_id)
        message.status = MessageStatus.PENDING
        message.attempts = max(0, message.attempts - 1)
        message.needs_reconcile = False
        message.next_attempt_at = utcnow()
        return
    message.error_code = outcome.code
    message.error_message = str(outcome)[:500]
    if not outcome.attempted:
        # Never offered to Twilio: not an attempt, and never a reason to give up on it.
        message.status = MessageStatus.PENDING
        message.attempts = max(0, message.attempts - 1)
        message.needs_reconcile = submission.reconcile
        message.next_attempt_at = next_attempt(
            1, settings.retry_base_seconds, settings.retry_cap_seconds
        )
        log.warning("message %s not sent: %s; trying again", submission.message_id, outcome)
        return
    if outcome.retry and message.attempts < settings.outbound_max_attempts:
        message.status = MessageStatus.PENDING
        message.needs_reconcile = submission.reconcile or outcome.ambiguous
        message.next_attempt_at = next_attempt(
            message.attempts, settings.retry_base_seconds, settings.retry_cap_seconds
        )
        if outcome.ambiguous:
            # Twilio may still be storing the request we gave up on: asking it before then
            # finds nothing, and the message would go twice. Ask once that request has had
            # another whole TWILIO_TIMEOUT_SECONDS to land.
            settled = utcnow() + dt.timedelta(seconds=settings.twilio_timeout)
            message.next_attempt_at = max(message.next_attempt_at, settled)
        log.warning("message %s: %s; retrying", submission.message_id, outcome)
        return
    # A permanent refusal (21610: the recipient opted out at the carrier; 21211: not a
    # valid number) is recorded, never retried.
    message.status = MessageStatus.FAILED
    message.status_at = utcnow()
    on_settled(session, message)
    log.error("message %s failed for good: %s", submission.message_id, outcome)
