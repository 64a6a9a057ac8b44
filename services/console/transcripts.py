"""What the console's conversation page shows: the transcript, notes and handoffs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from models import (
    Author,
    Direction,
    Handoff,
    InboundShape,
    Message,
    Officer,
    OfficerNote,
    SentAs,
)


@dataclass(frozen=True)
class Line:
    """One message of a transcript as the console shows it."""

    id: int
    at: dt.datetime
    inbound: bool
    sender: str  # "Victim", "Bot", "Service" or the officer's name
    author: Author
    body: str
    status: str
    sent_as: SentAs | None
    error: str | None
    # What kind of message the victim sent, when it was not plain text: "Shared a location:
    # 51.4816, -3.1791 (Cardiff Central)". The officer sees what the bot could not read.
    shape_note: str | None = None


SENDERS = {Author.VICTIM: "Victim", Author.BOT: "Bot", Author.SYSTEM: "Service"}

SHAPE_NOTES = {
    InboundShape.BUTTON: "Chose a button",
    InboundShape.LIST: "Chose from a list",
    InboundShape.REFERRAL: "Wrote from an advert",
    InboundShape.MEDIA: "Sent a picture or file, which we cannot open here",
    InboundShape.VOICE: "Sent a voice message, which we cannot play here",
    InboundShape.STICKER: "Sent a sticker",
    InboundShape.CONTACTS: "Shared a contact card, which we cannot open here",
    InboundShape.REACTION: "Reacted to one of our messages",
    InboundShape.UNREADABLE: "Sent nothing we can read (empty, or a kind not passed on)",
}


def shape_note(message: Message) -> str | None:
    """A line for the officer about an inbound message that was not plain text, or None."""
    if message.direction is not Direction.INBOUND or message.shape is InboundShape.TEXT:
        return None
    details = message.details or {}
    if message.shape is InboundShape.LOCATION:
        # Coordinates as sent, and no link to a map service: where a victim is must not
        # leave the console.
        where = ", ".join(details.get(k, "?") for k in ("Latitude", "Longitude"))
        named = ", ".join(details[k] for k in ("Label", "Address") if details.get(k))
        return f"Shared a location: {where}" + (f" ({named})" if named else "")
    return SHAPE_NOTES.get(message.shape)


def transcript(session: Session, conversation_id: int, last: int = 200) -> list[Line]:
    """The conversation's latest `last` messages, oldest first, with who sent each."""
    rows = session.execute(
        select(Message, Officer.display_name)
        .outerjoin(Officer, Officer.id == Message.officer_id)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.id.desc())
        .limit(last)
    ).all()
    lines = []
    for message, officer_name in reversed(rows):
        sender = SENDERS.get(message.author) or (officer_name or "Officer")
        lines.append(
            Line(
                id=message.id,
                at=message.created_at,
                inbound=message.direction.value == "inbound",
                sender=sender,
                author=message.author,
                body=message.body,
                status=message.status.value,
                sent_as=message.sent_as,
                error=message.error_message,
                shape_note=shape_note(message),
            )
        )
    return lines


def notes(session: Session, conversation_id: int) -> list[OfficerNote]:
    return list(
        session.scalars(
            select(OfficerNote)
            .where(OfficerNote.conversation_id == conversation_id)
            .order_by(OfficerNote.id)
            .options(joinedload(OfficerNote.officer))
        )
    )


def handoffs_of(session: Session, conversation_id: int) -> list[Handoff]:
    return list(
        session.scalars(
            select(Handoff)
            .where(Handoff.conversation_id == conversation_id)
            .order_by(Handoff.id.desc())
            .limit(20)
        )
    )
