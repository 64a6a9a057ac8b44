"""Storing what Twilio tells us: inbound messages (once per MessageSid) and delivery status."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import (
    Author,
    Conversation,
    DeliveryEvent,
    Direction,
    Message,
    MessageStatus,
    may_advance,
    utcnow,
)
from models.messaging import TWILIO_STATUSES
from services import phones
from services.errors import InvalidField

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stored:
    message_id: int | None
    duplicate: bool


def conversation_for(session: Session, address: str) -> Conversation:
    """The conversation with `address`, created on first contact."""
    conversation = session.scalar(select(Conversation).where(Conversation.address == address))
    if conversation is not None:
        return conversation
    channel, _ = phones.split_address(address)
    try:
        with session.begin_nested():
            conversation = Conversation(address=address, channel=channel)
            session.add(conversation)
    except IntegrityError:
        # Two first messages from one number at once: the other request created it.
        conversation = session.scalar(select(Conversation).where(Conversation.address == address))
        assert conversation is not None
    return conversation


def store_message(session: Session, form: Mapping[str, str]) -> Stored:
    """Store an inbound webhook's message; a MessageSid seen before is a duplicate."""
    sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
    sender = (form.get("From") or "").strip()
    if not sid:
        raise InvalidField("MessageSid", "is required")
    channel, number = phones.split_address(sender)
    if phones.normalise(number) != number:
        raise InvalidField("From", "must be an E.164 number, optionally prefixed 'whatsapp:'")
    try:
        num_media = int(form.get("NumMedia") or 0)
    except ValueError:
        raise InvalidField("NumMedia", "must be a whole number") from None
    if session.scalar(select(Message.id).where(Message.twilio_sid == sid)) is not None:
        return Stored(None, duplicate=True)
    conversation = conversation_for(session, sender)
    message = Message(
        conversation_id=conversation.id,
        direction=Direction.INBOUND,
        author=Author.VICTIM,
        body=form.get("Body") or "",
        num_media=num_media,
        twilio_sid=sid,
        status=MessageStatus.RECEIVED,
        next_attempt_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        # Twilio retried while the first delivery was still being stored: the unique
        # MessageSid lets exactly one of them in.
        return Stored(None, duplicate=True)
    conversation.last_inbound_at = utcnow()
    log.info("stored inbound %s from %s on %s", sid, phones.redact(number), channel.value)
    return Stored(message.id, duplicate=False)


def record_status(session: Session, form: Mapping[str, str]) -> None:
    """Keep a status callback, and apply it to its message if we know the message yet."""
    sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
    if not sid:
        raise InvalidField("MessageSid", "is required")
    if status not in TWILIO_STATUSES:
        raise InvalidField("MessageStatus", f"unknown status {status!r}")
    raw_code = form.get("ErrorCode") or ""
    error_code = int(raw_code) if raw_code.isdigit() else None
    session.add(DeliveryEvent(twilio_sid=sid, status=status, error_code=error_code))
    session.flush()
    apply_delivery_events(session, sid)


def apply_delivery_events(session: Session, sid: str) -> None:
    """Move the message with `sid` forward by the callbacks that have come for it."""
    message = session.scalar(select(Message).where(Message.twilio_sid == sid))
    if message is None or message.direction is not Direction.OUTBOUND:
        return  # Not recorded yet: applied when the send records the SID.
    events = session.scalars(
        select(DeliveryEvent)
        .where(DeliveryEvent.twilio_sid == sid, DeliveryEvent.applied.is_(False))
        .order_by(DeliveryEvent.id)
    ).all()
    for event in events:
        event.applied = True
        new = TWILIO_STATUSES[event.status]
        if may_advance(message.status, new):
            message.status = new
            message.status_at = utcnow()
            if event.error_code:
                message.error_code = event.error_code
