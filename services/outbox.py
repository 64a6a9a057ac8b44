"""The outbox: every outbound message is written here first, then handed to Twilio.

Sending is crash-safe: a message is marked SUBMITTING (committed) before the request to
Twilio, and anything found SUBMITTING by a later lease holder is looked up at Twilio
before it is sent again, so that a crash mid-request neither loses nor doubles it.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Author, Conversation, Direction, Message, MessageStatus, utcnow
from services import inbound, leases
from services.retry import next_attempt
from services.runtime import Runtime
from services.twilio_gateway import Accepted, SendFailed

log = logging.getLogger(__name__)

# Twilio's message dates have one-second resolution and its clock is not ours.
CLOCK_SLACK = dt.timedelta(minutes=2)


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
    """Write an outbound message to the outbox; a worker sends it."""
    message = Message(
        conversation_id=conversation.id,
        direction=Direction.OUTBOUND,
        author=author,
        body=body,
        status=MessageStatus.PENDING,
        next_attempt_at=utcnow(),
        reply_to_id=reply_to.id if reply_to else None,
        reply_seq=reply_seq,
        priority=priority,
        bypass_opt_out=bypass_opt_out,
    )
    session.add(message)
    session.flush()
    return message


def next_due(session: Session, conversation_id: int) -> Message | None:
    """The conversation's first unsent message, if it is due; later ones wait behind it."""
    head = session.scalar(
        select(Message)
        .where(
            Message.conversation_id == conversation_id,
            Message.direction == Direction.OUTBOUND,
            Message.status.in_([MessageStatus.PENDING, MessageStatus.SUBMITTING]),
        )
        .order_by(Message.priority, Message.id)
        .limit(1)
    )
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


def _record_accepted(session: Session, message: Message, accepted: Accepted) -> None:
    message.twilio_sid = accepted.sid
    message.status = MessageStatus.ACCEPTED
    message.status_at = utcnow()
    message.needs_reconcile = False
    message.error_code = None
    message.error_message = None
    session.flush()
    # Status callbacks that raced ahead of this commit are waiting; apply them now.
    inbound.apply_delivery_events(session, accepted.sid)


def send_next(rt: Runtime, conversation_id: int, owner: str) -> bool:
    """Send the conversation's next due message; True when there may be more to send."""
    settings = rt.settings
    with rt.db.session() as session:
        if not leases.renew(session, conversation_id, owner, settings.lease_seconds):
            raise leases.LeaseLost
        message = next_due(session, conversation_id)
        if message is None:
            return False
        conversation = message.conversation
        if conversation.opted_out_at and not message.bypass_opt_out:
            message.status = MessageStatus.SUPPRESSED
            message.error_message = "not sent: the recipient has opted out"
            return True
        message.status = MessageStatus.SUBMITTING
        message.attempts += 1
        message.submitted_at = utcnow()
        message_id, reconcile = message.id, message.needs_reconcile
        to, channel, body = conversation.address, conversation.channel, message.body
        since = message.created_at - CLOCK_SLACK

    outcome: Accepted | SendFailed
    try:
        found = rt.twilio.find_sent(to, channel, body, since) if reconcile else None
        outcome = found or rt.twilio.send(to, channel, body)
    except SendFailed as exc:
        outcome = exc

    with rt.db.session() as session:
        message = session.get_one(Message, message_id)
        if message.status is not MessageStatus.SUBMITTING:
            return True
        if isinstance(outcome, Accepted):
            _record_accepted(session, message, outcome)
            return True
        message.error_code = outcome.code
        message.error_message = str(outcome)[:500]
        if outcome.retry and message.attempts < settings.outbound_max_attempts:
            message.status = MessageStatus.PENDING
            message.needs_reconcile = reconcile or outcome.ambiguous
            message.next_attempt_at = next_attempt(
                message.attempts, settings.retry_base_seconds, settings.retry_cap_seconds
            )
            log.warning("message %s: %s; retrying", message_id, outcome)
            return False
        # A permanent refusal (21610: the recipient opted out at the carrier; 21211: not a
        # valid number) is recorded, never retried.
        message.status = MessageStatus.FAILED
        message.status_at = utcnow()
        log.error("message %s failed for good: %s", message_id, outcome)
        return True
