"""What waits in the message path, read from the database (for /metrics and alerts).

Every process and node shares the database, so these figures are right however many run;
they are read when asked, never kept.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Channel, Conversation, Direction, Message, MessageStatus, utcnow

# Outbound messages that Twilio has not yet taken.
UNSENT = (MessageStatus.PENDING, MessageStatus.SUBMITTING)


@dataclasses.dataclass(frozen=True)
class Backlog:
    """Messages by (direction, channel, status), and the age (seconds) of the oldest
    inbound message not yet processed and of the oldest outbound one not yet taken by
    Twilio (0 when there is none)."""

    counts: dict[tuple[Direction, Channel, MessageStatus], int]
    oldest_unprocessed_seconds: float
    oldest_unsent_seconds: float
    # Outbound messages whose last word from Twilio was an error, by its code and the
    # message's status: a refusal (21610, retrying 20429) or a delivery failure reported by
    # a status callback (30003 unreachable, 30007 filtered, 63016 outside WhatsApp's window).
    errors: dict[tuple[int, MessageStatus], int]


def _age(oldest: dt.datetime | None, now: dt.datetime) -> float:
    return max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0


def read(session: Session) -> Backlog:
    """The message counts and the two oldest ages, now.

    The counts are one grouped scan of `messages`; the ages use the (direction, status)
    index. A message waiting out a backoff (Rasa or Twilio down) counts as waiting: that is
    what an operator must see.
    """
    now = utcnow()
    rows = session.execute(
        select(Message.direction, Conversation.channel, Message.status, func.count())
        .join(Conversation, Message.conversation_id == Conversation.id)
        .group_by(Message.direction, Conversation.channel, Message.status)
    ).all()
    oldest_inbound = session.scalar(
        select(func.min(Message.created_at)).where(
            Message.direction == Direction.INBOUND, Message.status == MessageStatus.RECEIVED
        )
    )
    oldest_outbound = session.scalar(
        select(func.min(Message.created_at)).where(
            Message.direction == Direction.OUTBOUND, Message.status.in_(UNSENT)
        )
    )
    errors = session.execute(
        select(Message.error_code, Message.status, func.count())
        .where(Message.direction == Direction.OUTBOUND, Message.error_code.is_not(None))
        .group_by(Message.error_code, Message.status)
    ).all()
    return Backlog(
        counts={(d, c, s): n for d, c, s, n in rows},
        errors={(code, status): n for code, status, n in errors if code is not None},
        oldest_unprocessed_seconds=_age(oldest_inbound, now),
        oldest_unsent_seconds=_age(oldest_outbound, now),
    )
