"""Taking a conversation over from the bot and giving it back: claim, reply, note, hand
back, close.

Every state move of a conversation happens here (its rules are in models/messaging.py), and
every act records an audit event in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from models import (
    AuditAction,
    Author,
    Conversation,
    ConversationState,
    Handoff,
    HandoffStatus,
    Message,
    Officer,
    OfficerNote,
    Permission,
    SentAs,
    utcnow,
)
from models.db import rows_updated
from models.handoffs import may_move
from services.console import audit
from services.console.access import NotAllowed, conversation_for
from services.errors import InvalidField, NotFound, ServiceError
from services.messaging import outbox
from services.messaging.segments import MAX_BODY

log = logging.getLogger(__name__)

MAX_REPLY = MAX_BODY  # Twilio's limit for one message body, so one reply is one message
MAX_NOTE = 4000


class AlreadyClaimed(ServiceError):
    """Another officer claimed the handoff first (HTTP 409)."""


def claim(session: Session, officer: Officer, handoff_id: int) -> Handoff:
    """Take an open handoff and its conversation; AlreadyClaimed when someone was first.

    The claim is one conditional UPDATE (status still open): of two officers who press at
    the same moment, exactly one changes the row, on SQLite and PostgreSQL alike.
    """
    if not officer.may(Permission.WORK):
        raise NotAllowed("your role cannot take conversations")
    assert may_move(HandoffStatus.OPEN, HandoffStatus.CLAIMED)
    now = utcnow()
    won = rows_updated(
        session,
        update(Handoff)
        .where(Handoff.id == handoff_id, Handoff.status == HandoffStatus.OPEN)
        .values(
            status=HandoffStatus.CLAIMED,
            claimed_by=officer.display_name[:200],
            claimed_at=now,
            officer_id=officer.id,
        ),
    )
    if not won:
        if session.get(Handoff, handoff_id) is None:
            raise NotFound(f"no handoff {handoff_id}")
        raise AlreadyClaimed("another officer claimed this handoff first")
    handoff = session.get_one(Handoff, handoff_id)
    session.refresh(handoff)
    conversation = handoff.conversation
    # A new request on a conversation someone already had: the claimant now has it all.
    for earlier in _claimed(session, conversation.id, but=handoff.id):
        earlier.move(HandoffStatus.CLOSED)
    if conversation.state is not ConversationState.OFFICER:
        if conversation.state is not ConversationState.WAITING_FOR_OFFICER:
            conversation.move(ConversationState.WAITING_FOR_OFFICER)
        conversation.move(ConversationState.OFFICER)
    # The claim gives this conversation, while the officer has it, and nothing more: not the
    # victim's cases (services/console/access.py).
    conversation.officer_id = officer.id
    audit.record(
        session,
        officer,
        AuditAction.CLAIM,
        victim_id=conversation.victim_id,
        conversation_id=conversation.id,
        case_id=handoff.case_id,
        detail=f"handoff {handoff.id} ({handoff.priority.value})",
    )
    log.info("handoff %s claimed by officer %s", handoff.id, officer.id)
    return handoff


def _claimed(session: Session, conversation_id: int, but: int | None = None) -> list[Handoff]:
    query = select(Handoff).where(
        Handoff.conversation_id == conversation_id, Handoff.status == HandoffStatus.CLAIMED
    )
    if but is not None:
        query = query.where(Handoff.id != but)
    return list(session.scalars(query))


def _owned(session: Session, officer: Officer, conversation_id: int) -> Conversation:
    conversation = conversation_for(session, officer, conversation_id)
    if conversation.state is not ConversationState.OFFICER:
        raise NotAllowed("nobody has taken this conversation over: claim its handoff first")
    if conversation.officer_id != officer.id and not officer.may(Permission.SUPERVISE):
        raise NotAllowed("another officer has this conversation")
    return conversation


def _let_go(session: Session, conversation: Conversation, to: ConversationState) -> None:
    """The officer is done: claimed handoffs close, and the conversation moves on (back to
    the queue instead, when a new request is still open)."""
    for handoff in _claimed(session, conversation.id):
        handoff.move(HandoffStatus.CLOSED)
    still_open = session.scalar(
        select(
            exists().where(
                Handoff.conversation_id == conversation.id, Handoff.status == HandoffStatus.OPEN
            )
        )
    )
    conversation.move(ConversationState.WAITING_FOR_OFFICER if still_open else to)
    conversation.officer_id = None


def reply(session: Session, officer: Officer, conversation_id: int, body: str) -> Message:
    """Write the officer's reply to the outbox, on the victim's channel."""
    conversation = _owned(session, officer, conversation_id)
    body = body.strip()
    if not body:
        raise InvalidField("body", "is required")
    if len(body) > MAX_REPLY:
        raise InvalidField("body", f"must be at most {MAX_REPLY} characters")
    message = outbox.enqueue(session, conversation, body, Author.OFFICER)
    message.officer_id = officer.id
    audit.record(
        session,
        officer,
        AuditAction.REPLY,
        victim_id=conversation.victim_id,
        conversation_id=conversation.id,
        detail=f"message {message.id}",
    )
    return message


def note(session: Session, officer: Officer, conversation_id: int, body: str) -> OfficerNote:
    """An internal note: stored beside the conversation, never sent."""
    conversation = conversation_for(session, officer, conversation_id)
    if not officer.may(Permission.WORK):
        raise NotAllowed("your role cannot write notes")
    body = body.strip()
    if not body:
        raise InvalidField("note", "is required")
    if len(body) > MAX_NOTE:
        raise InvalidField("note", f"must be at most {MAX_NOTE} characters")
    entry = OfficerNote(conversation_id=conversation.id, officer_id=officer.id, body=body)
    session.add(entry)
    session.flush()
    audit.record(
        session,
        officer,
        AuditAction.NOTE,
        victim_id=conversation.victim_id,
        conversation_id=conversation.id,
        detail=f"note {entry.id}",
    )
    return entry


def hand_back(session: Session, officer: Officer, conversation_id: int) -> Conversation:
    """Give the conversation back to the bot, which is told so with the next message."""
    conversation = _owned(session, officer, conversation_id)
    _let_go(session, conversation, ConversationState.BOT)
    conversation.handed_back_at = utcnow()
    # Whoever writes next must prove who they are again (docs/SAFETY.md).
    conversation.end_verification()
    audit.record(
        session,
        officer,
        AuditAction.HAND_BACK,
        victim_id=conversation.victim_id,
        conversation_id=conversation.id,
    )
    return conversation


def close(session: Session, officer: Officer, conversation_id: int) -> Conversation:
    """Close the conversation; if the victim writes again, the bot answers."""
    conversation = _owned(session, officer, conversation_id)
    _let_go(session, conversation, ConversationState.CLOSED)
    conversation.end_verification()
    audit.record(
        session,
        officer,
        AuditAction.CLOSE,
        victim_id=conversation.victim_id,
        conversation_id=conversation.id,
    )
    return conversation


def reply_route(conversation: Conversation, now: dt.datetime | None = None) -> SentAs:
    """How an officer's free-text reply would go now (WhatsApp's 24-hour window decides)."""
    probe = Message(sent_as=None, content_sid=None)
    return outbox.route(probe, conversation, now or utcnow())
