"""Notifications: what the service tells a victim without being asked, and whether it went."""

from __future__ import annotations

import enum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, CreatedAt, Timestamp, enum_column, utcnow
from models.cases import Case, CaseEvent, Victim
from models.messaging import Message, MessageStatus


class NotificationKind(enum.StrEnum):
    WELCOME = "welcome"
    CODE_UPDATE = "code_update"


class NotificationStatus(enum.StrEnum):
    # Waiting for its send_at.
    PENDING = "pending"
    # Written to the outbox as a message; the outbox sends it.
    QUEUED = "queued"
    # Twilio took the message.
    SENT = "sent"
    # Never sent, on purpose (an opt-out); status_reason says why.
    SUPPRESSED = "suppressed"
    # The outbox gave up on its message; status_reason says why.
    FAILED = "failed"


# The only moves a notification makes. Handing over is PENDING -> QUEUED (or straight to
# SUPPRESSED when the victim has opted out); the outbox's outcome then settles it. Nothing
# leaves SENT, SUPPRESSED or FAILED: a notification is handed over exactly once.
TRANSITIONS: dict[NotificationStatus, frozenset[NotificationStatus]] = {
    NotificationStatus.PENDING: frozenset(
        {NotificationStatus.QUEUED, NotificationStatus.SUPPRESSED}
    ),
    NotificationStatus.QUEUED: frozenset(
        {NotificationStatus.SENT, NotificationStatus.SUPPRESSED, NotificationStatus.FAILED}
    ),
    NotificationStatus.SENT: frozenset(),
    NotificationStatus.SUPPRESSED: frozenset(),
    NotificationStatus.FAILED: frozenset(),
}

# What the outbox's outcome for a notification's message means for the notification.
FROM_MESSAGE: dict[MessageStatus, NotificationStatus] = {
    MessageStatus.ACCEPTED: NotificationStatus.SENT,
    MessageStatus.SUPPRESSED: NotificationStatus.SUPPRESSED,
    MessageStatus.FAILED: NotificationStatus.FAILED,
}


class IllegalTransition(ValueError):
    """A notification was asked to move where its rules do not allow."""


def may_move(current: NotificationStatus, to: NotificationStatus) -> bool:
    """Whether a notification in `current` may move to `to`."""
    return to in TRANSITIONS[current]


class Notification(Base):
    """One message the service owes a victim: a welcome, or news of a Code event."""

    __tablename__ = "notifications"
    # The worker's question, asked every second: which pending ones are due.
    __table_args__ = (Index("ix_notifications_due", "status", "send_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    victim_id: Mapped[int] = mapped_column(ForeignKey("victims.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("case_events.id"), index=True)
    kind: Mapped[NotificationKind] = mapped_column(enum_column(NotificationKind))
    # The Victims' Code limit (exclusive); None when the Code sets none (a welcome).
    due_by: Mapped[Timestamp | None]
    send_at: Mapped[Timestamp]
    status: Mapped[NotificationStatus] = mapped_column(
        enum_column(NotificationStatus), default=NotificationStatus.PENDING
    )
    status_reason: Mapped[str | None] = mapped_column(String(500))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), unique=True)
    sent_at: Mapped[Timestamp | None]
    created_at: Mapped[CreatedAt]

    victim: Mapped[Victim] = relationship()
    case: Mapped[Case] = relationship()
    event: Mapped[CaseEvent | None] = relationship()
    message: Mapped[Message | None] = relationship()

    def move(self, to: NotificationStatus, reason: str | None = None) -> None:
        """Change status by the rules in TRANSITIONS, recording why and when it was sent."""
        if not may_move(self.status, to):
            raise IllegalTransition(f"notification {self.id}: {self.status} -> {to}")
        self.status = to
        if reason is not None:
            self.status_reason = reason[:500]
        if to is NotificationStatus.SENT:
            self.sent_at = utcnow()

    def follow(self, message: Message) -> None:
        """Settle a queued notification by the outbox's outcome for its message."""
        to = FROM_MESSAGE.get(message.status)
        if to is not None and self.status is NotificationStatus.QUEUED:
            reason = message.error_message if to is not NotificationStatus.SENT else None
            self.move(to, reason)

    @property
    def within_code(self) -> bool | None:
        """Whether it was sent before its Code limit; None when it has no limit or is unsent."""
        if self.due_by is None or self.sent_at is None:
            return None
        return self.sent_at < self.due_by
