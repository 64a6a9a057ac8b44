"""Storing what Twilio tells us: inbound messages (once per MessageSid) and delivery status."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Integer, Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from models import (
    Author,
    Channel,
    Conversation,
    DeliveryEvent,
    Direction,
    Message,
    MessageStatus,
    utcnow,
)
from models.db import insert_ignoring_duplicate, lock_for_transaction
from models.messaging import NOT_DELIVERED, TWILIO_STATUSES, status_from_callback
from services.errors import InvalidField
from services.messaging import phones, shapes
from services.messaging.settlement import OnSettled

log = logging.getLogger(__name__)


# Looks at an arriving message's text before it is stored: returns the text to store, and
# what to do once the message is stored (not for a duplicate). The web app passes the
# identity check's (services/identity/verification.on_arrival), so that a date of birth
# asked for is checked and never written.
Screen = Callable[[Session, int, str], tuple[str, Callable[[], object] | None]]


# Built once: building a statement per call (coercing its columns, computing its cache
# key) cost more CPU than running it (bench/README.md, "Profile").
_CONVERSATIONS = cast(Table, Conversation.__table__)
_MESSAGES = cast(Table, Message.__table__)
_CONVERSATION_BY_ADDRESS = select(_CONVERSATIONS.c.id).where(
    _CONVERSATIONS.c.address == bindparam("address")
)
_CALLBACKS = cast(Table, DeliveryEvent.__table__)
_KEEP_CALLBACK = insert(_CALLBACKS)
# The callbacks kept for the SID `sid` and not applied to its message yet.
_WAITING = (_CALLBACKS.c.twilio_sid == bindparam("sid")) & _CALLBACKS.c.applied.is_(False)
_WAITING_CALLBACKS = (
    select(_CALLBACKS.c.id, _CALLBACKS.c.status, _CALLBACKS.c.error_code)
    .where(_WAITING)
    .order_by(_CALLBACKS.c.id)
)
# The message a callback is about, with the callbacks waiting for it (this one included),
# in one query, not two: two callbacks come for every message we send. No row: the send
# has not recorded the SID yet. One row with no callback: none waits.
_OUTBOUND_AND_WAITING = (
    select(
        _MESSAGES.c.id,
        _MESSAGES.c.status,
        _CALLBACKS.c.id.label("callback_id"),
        _CALLBACKS.c.status.label("reported"),
        _CALLBACKS.c.error_code,
    )
    .select_from(_MESSAGES.outerjoin(_CALLBACKS, _WAITING))
    .where(_MESSAGES.c.twilio_sid == bindparam("sid"), _MESSAGES.c.direction == Direction.OUTBOUND)
    .order_by(_CALLBACKS.c.id)
)
_MARK_APPLIED = (
    update(_CALLBACKS).where(_WAITING, _CALLBACKS.c.id <= bindparam("last")).values(applied=True)
)
_MOVE_MESSAGE = (
    update(_MESSAGES)
    .where(_MESSAGES.c.id == bindparam("message_id"))
    .values(
        status=bindparam("new_status", type_=_MESSAGES.c.status.type),
        status_at=bindparam("at", type_=_MESSAGES.c.status_at.type),
        error_code=func.coalesce(bindparam("code", type_=Integer), _MESSAGES.c.error_code),
    )
)
_HEARD_FROM = (
    update(_CONVERSATIONS)
    .where(_CONVERSATIONS.c.id == bindparam("conversation_id"))
    .values(last_inbound_at=bindparam("now"))
)


@dataclass(frozen=True)
class Stored:
    """An inbound message as stored: its id (None for a duplicate) and what it said."""

    message_id: int | None
    duplicate: bool
    body: str = ""


def conversation_id_for(session: Session, address: str) -> int:
    """The id of the conversation with `address`, created on first contact."""
    found: int | None = session.scalar(_CONVERSATION_BY_ADDRESS, {"address": address})
    if found is not None:
        return found
    channel, _ = phones.split_address(address)
    values = {"address": address, "channel": channel, "public_id": uuid.uuid4().hex}
    created = insert_ignoring_duplicate(session, _CONVERSATIONS, values)
    # None: two first messages from one number at once, and the other request created it.
    if created is not None:
        return created
    return int(session.execute(_CONVERSATION_BY_ADDRESS, {"address": address}).scalar_one())


def store_message(
    session: Session, form: Mapping[str, str], screen: Screen | None = None
) -> Stored:
    """Store an inbound webhook's message; a MessageSid seen before is a duplicate.

    Every kind of message Twilio documents is stored (services/messaging/shapes.py), from
    a phone, an alphanumeric sender ID or a short code. InvalidField (a 400, which Twilio
    does not retry) only for a form Twilio would never send: no MessageSid, a From that is
    none of those, a NumMedia that is not a number. `screen`, when given, decides what of
    the text is stored (see Screen).
    """
    sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
    sender = (form.get("From") or "").strip()
    if not sid:
        raise InvalidField("MessageSid", "is required")
    channel, number = phones.split_address(sender)
    kind = phones.sender_kind(number)
    if kind is None or (channel is Channel.WHATSAPP and kind is not phones.SenderKind.PHONE):
        raise InvalidField(
            "From",
            "must be an E.164 number (optionally prefixed 'whatsapp:'), "
            "an alphanumeric sender ID or a short code",
        )
    try:
        num_media = int(form.get("NumMedia") or 0)
    except ValueError:
        raise InvalidField("NumMedia", "must be a whole number") from None
    if num_media < 0:
        raise InvalidField("NumMedia", "must be a whole number")
    message = shapes.classify(form, num_media)
    conversation_id = conversation_id_for(session, sender)
    now = utcnow()
    body, after = message.body, None
    if screen is not None:
        body, after = screen(session, conversation_id, body)
    # The unique MessageSid decides: a retried delivery, even one racing the first, inserts
    # nothing and is answered 2xx all the same.
    message_id = insert_ignoring_duplicate(
        session,
        _MESSAGES,
        {
            "conversation_id": conversation_id,
            "direction": Direction.INBOUND,
            "author": Author.VICTIM,
            "body": body,
            "num_media": message.num_media,
            "shape": message.shape,
            "details": message.details,
            "twilio_sid": sid,
            "status": MessageStatus.RECEIVED,
            "next_attempt_at": now,
            "created_at": now,
        },
    )
    if message_id is None:
        return Stored(None, duplicate=True)
    if after is not None:
        after()
    session.execute(_HEARD_FROM, {"conversation_id": conversation_id, "now": now})
    log.info(
        "stored inbound %s (%s) from %s on %s",
        sid,
        message.shape.value,
        phones.redact(number) if kind is phones.SenderKind.PHONE else kind.value,
        channel.value,
    )
    return Stored(message_id, duplicate=False, body=body)


def record_status(session: Session, form: Mapping[str, str], on_settled: OnSettled) -> None:
    """Keep a status callback, and apply it to its message if we know the message yet.

    Any status is kept as Twilio wrote it; one that TWILIO_STATUSES does not list (Twilio
    adds statuses without notice) moves nothing. InvalidField only without a MessageSid or
    a MessageStatus. Core statements, not ORM loads and flushes: two of these come for every
    message we send, and the ORM's unit of work cost more CPU than the statements
    (bench/README.md, "Profile"); the message is loaded only to tell `on_settled` it failed.
    """
    sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
    if not sid:
        raise InvalidField("MessageSid", "is required")
    if not status:
        raise InvalidField("MessageStatus", "is required")
    if status not in TWILIO_STATUSES:
        log.warning("status callback for %s: unknown status %r kept; it moves nothing", sid, status)
    raw_code = form.get("ErrorCode") or ""
    error_code = int(raw_code) if raw_code.isdigit() else None
    hold_sid(session, sid)
    session.execute(
        _KEEP_CALLBACK,
        {"twilio_sid": sid, "status": status[:40], "error_code": error_code, "applied": False},
    )
    rows = session.execute(_OUTBOUND_AND_WAITING, {"sid": sid}).all()
    if not rows:
        return  # Not recorded yet: applied when the send records the SID.
    message_id, current = rows[0].id, rows[0].status
    waiting = [
        (row.callback_id, row.reported, row.error_code)
        for row in rows
        if row.callback_id is not None
    ]
    moved = _mark_applied(session, sid, current, waiting)
    if moved.status is None:
        return
    session.execute(
        _MOVE_MESSAGE,
        {
            "message_id": message_id,
            "new_status": moved.status,
            "at": utcnow(),
            "code": moved.error_code,
        },
    )
    if moved.failed:
        message = session.get(Message, message_id, populate_existing=True)
        if message is not None:
            on_settled(session, message)


def hold_sid(session: Session, sid: str) -> None:
    """Make this transaction the only one about `sid` until it ends.

    A callback can come while the send that will record its SID is still committing. Each
    looks for the other (the callback for the message, the send for waiting callbacks), and
    with both in flight each could miss the other, leaving a callback, perhaps the final
    "failed", never applied. One at a time, the later one always sees the earlier. Call it
    before writing anything about the message (record_status and the outbox do).
    """
    lock_for_transaction(session, f"twilio-sid:{sid}")


def apply_delivery_events(
    session: Session, sid: str, on_settled: OnSettled, message: Message | None = None
) -> None:
    """Move the message with `sid` forward by the callbacks that have come for it; tell
    `on_settled` when they say it failed or was not delivered.

    `message`: the row holding `sid` when the caller has it (the send that has just recorded
    the SID), which saves looking it up on every send.
    """
    if message is None:
        message = session.scalar(select(Message).where(Message.twilio_sid == sid))
    if message is None or message.direction is not Direction.OUTBOUND:
        return  # Not recorded yet: applied when the send records the SID.
    moved = _take_waiting(session, sid, message.status)
    if moved.status is not None:
        message.status = moved.status
        message.status_at = utcnow()
        if moved.error_code is not None:
            message.error_code = moved.error_code
    if moved.failed:
        on_settled(session, message)


@dataclass(frozen=True)
class _Advance:
    """What a message's waiting callbacks, taken in the order they came, do to it."""

    status: MessageStatus | None  # the status it ends in; None: they move nothing
    error_code: int | None  # Twilio's error code, from the last callback that moved it
    failed: bool  # whether the status it ends in is one of NOT_DELIVERED


def _take_waiting(session: Session, sid: str, current: MessageStatus) -> _Advance:
    """Mark the callbacks waiting for `sid` applied, and say what they do to a message in
    `current`. The caller holds the SID (hold_sid), so no callback comes in between."""
    waiting = session.execute(_WAITING_CALLBACKS, {"sid": sid}).all()
    return _mark_applied(
        session, sid, current, [(row.id, row.status, row.error_code) for row in waiting]
    )


def _mark_applied(
    session: Session,
    sid: str,
    current: MessageStatus,
    waiting: Sequence[tuple[int, str, int | None]],
) -> _Advance:
    """Mark `waiting` (the callbacks waiting for `sid`, as (id, status, error_code) in the
    order they came) applied, and say what they do to a message in `current`."""
    if waiting:
        session.execute(_MARK_APPLIED, {"sid": sid, "last": waiting[-1][0]})
    return _advance(current, [(status, code) for _, status, code in waiting])


def _advance(current: MessageStatus, callbacks: Sequence[tuple[str, int | None]]) -> _Advance:
    """Fold the callbacks (status, error_code), in the order they came, into `current`; one
    that does not move the message forward (models.messaging.status_from_callback) changes
    nothing."""
    status: MessageStatus | None = None
    error_code = None
    for reported, code in callbacks:
        new = status_from_callback(current if status is None else status, reported)
        if new is not None:
            status = new
            if code:
                error_code = code
    return _Advance(status, error_code, status in NOT_DELIVERED)
