"""Handoffs: a conversation that a person (an officer) must look at, and how urgently."""

from __future__ import annotations

import enum

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, Timestamp, enum_column, utcnow
from models.cases import Case, Victim
from models.messaging import Conversation


class HandoffPriority(enum.StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"


# Lower is more urgent: the order in which officers should look.
PRIORITY_RANK: dict[HandoffPriority, int] = {
    HandoffPriority.URGENT: 0,
    HandoffPriority.HIGH: 1,
    HandoffPriority.NORMAL: 2,
}


class HandoffStatus(enum.StrEnum):
    # Waiting for an officer.
    OPEN = "open"
    # An officer has taken it.
    CLAIMED = "claimed"
    # Dealt with.
    CLOSED = "closed"


# The only moves a handoff makes. An officer may hand a claimed one back (CLAIMED -> OPEN)
# rather than sit on it; an open one may be closed without a claim (a duplicate, say).
# Nothing leaves CLOSED: new trouble opens a new handoff.
TRANSITIONS: dict[HandoffStatus, frozenset[HandoffStatus]] = {
    HandoffStatus.OPEN: frozenset({HandoffStatus.CLAIMED, HandoffStatus.CLOSED}),
    HandoffStatus.CLAIMED: frozenset({HandoffStatus.OPEN, HandoffStatus.CLOSED}),
    HandoffStatus.CLOSED: frozenset(),
}


class IllegalHandoffMove(ValueError):
    """A handoff was asked to move where its rules do not allow."""


def may_move(current: HandoffStatus, to: HandoffStatus) -> bool:
    """Whether a handoff in `current` may move to `to`."""
    return to in TRANSITIONS[current]


class Handoff(Base):
    """A request for an officer to take over or look at a conversation."""

    __tablename__ = "handoffs"
    __table_args__ = (
        # At most one open handoff per conversation: a second reason raises the first
        # (services/console/handoffs.py), and the database holds that even against a race.
        Index(
            "uq_handoffs_one_open",
            "conversation_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_handoffs_status", "status", "opened_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    victim_id: Mapped[int | None] = mapped_column(ForeignKey("victims.id"), index=True)
    # The victim's case when they are on exactly one; otherwise the officer must ask.
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    priority: Mapped[HandoffPriority] = mapped_column(enum_column(HandoffPriority))
    reason: Mapped[str] = mapped_column(String(200))
    status: Mapped[HandoffStatus] = mapped_column(
        enum_column(HandoffStatus), default=HandoffStatus.OPEN
    )
    opened_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[Timestamp | None]
    closed_at: Mapped[Timestamp | None]
    # The console's officer who claimed it (claimed_by keeps their name for the record).
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"), index=True)
    # When nobody had claimed it in time and the victim was told when to expect contact.
    overdue_at: Mapped[Timestamp | None]

    conversation: Mapped[Conversation] = relationship()
    victim: Mapped[Victim | None] = relationship()
    case: Mapped[Case | None] = relationship()

    def move(self, to: HandoffStatus, officer: str | None = None) -> None:
        """Change status by the rules in TRANSITIONS, recording who and when."""
        if not may_move(self.status, to):
            raise IllegalHandoffMove(f"handoff {self.id}: {self.status} -> {to}")
        now = utcnow()
        if to is HandoffStatus.CLAIMED:
            if not officer:
                raise IllegalHandoffMove(f"handoff {self.id}: a claim needs the officer")
            self.claimed_by, self.claimed_at = officer, now
        elif to is HandoffStatus.OPEN:
            self.claimed_by, self.claimed_at, self.officer_id = None, None, None
        elif to is HandoffStatus.CLOSED:
            self.closed_at = now
        self.status = to
