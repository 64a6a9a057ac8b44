"""Storing what Twilio tells us: inbound messages (once per MessageSid) and delivery status."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, select, update
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
from models.db import insert_ignoring_duplicate
from models.messaging import TWILIO_STATUSES
from services.errors import InvalidField
from services.messaging import phones
from services.messaging.settlement import OnSettled

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stored:
    """An inbound message as stored: its id (None for a duplicate) and what it said."""

    message_id: int | None
    duplicate: bool
    body: str = ""


def conversation_id_for(session: Session, address: str) -> int:
    """The id of the conversation with `address`, created on first contact."""
    query = select(Conversation.id).where(Conversation.address == address)
    found = session.scalar(query)
    if found is not None:
        return found
    channel, _ = phones.split_address(address)
    values = {"address": address, "channel": channel, "public_id": uuid.uuid4().hex}
    created = insert_ignoring_duplicate(session, cast(Table, Conversation.__table__), values)
    # None: two first messages from one number at once, and the other request created it.
    return created if created is not None else session.scalars(query).one()


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
    body = form.get("Body") or ""
    conversation_id = conversation_id_for(session, sender)
    now = utcnow()
    # The unique MessageSid decides: a retried delivery, even one racing the first, inserts
    # nothing and is answered 2xx all the same.
    message_id = insert_ignoring_duplicate(
        session,
        cast(Table, Message.__table__),
        {
            "conversation_id": conversation_id,
            "direction": Direction.INBOUND,
            "author": Author.VICTIM,
            "body": body,
            "num_media": num_media,
            "twilio_sid": sid,
            "status": MessageStatus.RECEIVED,
            "next_attempt_at": now,
            "created_at": now,
        },
    )
    if message_id is None:
        return Stored(None, duplicate=True)
    session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(last_inbound_at=now)
        .execution_options(synchronize_session=False)
    )
    log.info("stored inbound %s from %s on %s", sid, phones.redact(number), channel.value)
    return Stored(message_id, duplicate=False, body=body)


def record_status(session: Session, form: Mapping[str, str], on_settled: OnSettled) -> None:
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
    apply_delivery_events(session, sid, on_settled)


def apply_delivery_events(session: Session, sid: str, on_settled: OnSettled) -> None:
    """Move the message with `sid` forward by the callbacks that have come for it; tell
    `on_settled` when they say it failed or was not delivered."""
    message = session.scalar(select(Message).where(Message.twilio_sid == sid))
    if message is None or message.direction is not Direction.OUTBOUND:
        return  # Not recorded yet: applied when the send records the SID.
    events = session.scalars(
        select(DeliveryEvent)
        .where(DeliveryEvent.twilio_sid == sid, DeliveryEvent.applied.is_(False))
        .order_by(DeliveryEvent.id)
    ).all()
    failed = False
    for event in events:
        event.applied = True
        new = TWILIO_STATUSES[event.status]
        if may_advance(message.status, new):
            message.status = new
            message.status_at = utcnow()
            if event.error_code:
                message.error_code = event.error_code
            failed = new in (MessageStatus.FAILED, MessageStatus.UNDELIVERED)
    if failed:
        on_settled(session, message)
