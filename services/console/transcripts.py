"""What the console's conversation page shows: the transcript, notes and handoffs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from models import Author, Handoff, Message, Officer, OfficerNote, SentAs


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


SENDERS = {Author.VICTIM: "Victim", Author.BOT: "Bot", Author.SYSTEM: "Service"}


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
