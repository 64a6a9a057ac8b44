"""Answering one inbound message: its replies go to the outbox, and it is marked processed,
in the same transaction, so that a crash can never leave one without the other."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Author, Conversation, Message, MessageStatus, Victim, utcnow
from services.messaging import outbox, phones


def done(message: Message) -> None:
    """Mark an inbound message processed: nothing more will be done with it automatically."""
    message.status = MessageStatus.PROCESSED
    message.processed_at = utcnow()


def reply(
    session: Session,
    conversation: Conversation,
    inbound: Message,
    bodies: list[str],
    author: Author = Author.SYSTEM,
    bypass_opt_out: bool = False,
    priority: int = 0,
) -> None:
    """Write the answers to `inbound` to the outbox and mark it processed, in one go.

    Each reply is numbered (`reply_seq`) under the message it answers, and the pair is
    unique: the same answer can never be written twice. `priority` outbox.URGENT sends
    them without the conversation's lease (999 guidance).
    """
    for seq, body in enumerate(bodies):
        outbox.enqueue(
            session,
            conversation,
            body,
            author,
            reply_to=inbound,
            reply_seq=seq,
            priority=priority,
            bypass_opt_out=bypass_opt_out,
        )
    done(inbound)


def victim_for(session: Session, conversation: Conversation) -> Victim | None:
    """The victim at this address; looked up again until found, since they may register later."""
    if conversation.victim is None:
        _, number = phones.split_address(conversation.address)
        victim = session.scalar(select(Victim).where(Victim.phone == number))
        if victim is not None:
            conversation.victim = victim
    return conversation.victim
