"""Notifications: what the service tells a victim without being asked, and whether it went."""

from __future__ import annotations

import enum

from sqlalchemy import ForeignKey, Index, String, Text, Update, update
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, CreatedAt, Timestamp, enum_column, utcnow
from models.cases import Case, CaseEvent, Victim
from models.messaging import Message, MessageStatus


class NotificationKind(enum.StrEnum):
    WELCOME = "welcome"
    # News of a Victims' Code event, within the Code's limit.
    CODE_UPDATE = "code_update"
    # "No change" after `update_every_days` with no other update sent.
    CHECK_IN = "check_in"
    # An update an officer or a case system scheduled for a chosen time.
    SCHEDULED = "scheduled"
    # The needs questionnaire: an invitation 2 days after registration, and one reminder.
    NEEDS_INVITE = "needs_invite"
    NEEDS_REMINDER = "needs_reminder"
    # When the case closes: goodbye, and a 1-5 satisfaction score with a comment.
    CLOSING_SURVEY = "closing_survey"


class NotificationStatus(enum.StrEnum):
    # Waiting for its send_at.
    PENDING = "pending"
    # Written to the outbox as a message; the outbox sends it.
    QUEUED = "queued"
    # Twilio took the message.
    SENT = "sent"
    # Never sent, on purpose (an opt-out); status_reason says why.
    SUPPRESSED = "suppressed"
    # Withdrawn before it went (an officer cancelled a scheduled update).
    CANCELLED = "cancelled"
    # The outbox gave up on its message; status_reason says why.
    FAILED = "failed"


# The only moves a notification makes. Handing over is PENDING -> QUEUED (or straight to
# SUPPRESSED when the victim has opted out); a scheduled one may be CANCELLED while it waits.
# The outbox's outcome then settles it. SENT may still turn out undelivered on WhatsApp: it goes
# back to QUEUED for its SMS fallback, or to FAILED. Nothing leaves SUPPRESSED, CANCELLED or
# FAILED: a notification is handed over once, and falls back to SMS at most once.
TRANSITIONS: dict[NotificationStatus, frozenset[NotificationStatus]] = {
    NotificationStatus.PENDING: frozenset(
        {NotificationStatus.QUEUED, NotificationStatus.SUPPRESSED, NotificationStatus.CANCELLED}
    ),
    NotificationStatus.QUEUED: frozenset(
        {NotificationStatus.SENT, NotificationStatus.SUPPRESSED, NotificationStatus.FAILED}
    ),
    NotificationStatus.SENT: frozenset({NotificationStatus.QUEUED, NotificationStatus.FAILED}),
    NotificationStatus.SUPPRESSED: frozenset(),
    NotificationStatus.CANCELLED: frozenset(),
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
    scheduled_update_id: Mapped[int | None] = mapped_column(
        ForeignKey("scheduled_updates.id"), index=True
    )
    # Planners that run on a timer (check-ins, questionnaire invitations) may run twice, or
    # on two schedulers for a moment during a failover: this key makes the second plan fail.
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    kind: Mapped[NotificationKind] = mapped_column(enum_column(NotificationKind))
    # The Victims' Code limit (exclusive); None when the Code sets none (a welcome that does
    # not acknowledge the report).
    due_by: Mapped[Timestamp | None]
    # The Code duty it meets (a key of config/victims_code.yml: right_6_update,
    # right_to_review_offer, right_3_acknowledgement); None when it meets none.
    duty: Mapped[str | None] = mapped_column(String(40))
    send_at: Mapped[Timestamp]
    status: Mapped[NotificationStatus] = mapped_column(
        enum_column(NotificationStatus), default=NotificationStatus.PENDING
    )
    status_reason: Mapped[str | None] = mapped_column(String(500))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), unique=True)
    sent_at: Mapped[Timestamp | None]
    # Set when WhatsApp failed and the notification went again by SMS (once at most).
    fell_back_at: Mapped[Timestamp | None]
    created_at: Mapped[CreatedAt]

    victim: Mapped[Victim] = relationship()
    case: Mapped[Case] = relationship()
    event: Mapped[CaseEvent | None] = relationship()
    message: Mapped[Message | None] = relationship()
    scheduled_update: Mapped[ScheduledUpdate | None] = relationship(back_populates="notifications")

    def move(self, to: NotificationStatus, reason: str | None = None) -> None:
        """Change status by the rules in TRANSITIONS, recording why and when it was sent."""
        if not may_move(self.status, to):
            raise IllegalTransition(f"notification {self.id}: {self.status} -> {to}")
        self.status = to
        if reason is not None:
            self.status_reason = reason[:500]
        if to is NotificationStatus.SENT:
            self.sent_at = utcnow()
        elif to is NotificationStatus.QUEUED:
            # Going again (an SMS fallback): it counts as sent when the fallback is.
            self.sent_at = None

    def follow(self, message: Message) -> None:
        """Settle a queued notification by the outbox's outcome for its message."""
        to = FROM_MESSAGE.get(message.status)
        if to is not None and self.status is NotificationStatus.QUEUED:
            self.move(to, _follow_reason(to, message))

    @classmethod
    def following(cls, message_id: int, message: Message) -> Update | None:
        """`follow` as one UPDATE of the notification carried by `message_id`, for callers
        that have not loaded it; None when the message's status settles nothing.

        The outbox settles a notification at every send: loading the row to move it cost a
        query and a flush more (bench/README.md, "fourth session"). The same rules as
        `move`: QUEUED is the only status it leaves, by TRANSITIONS. Run it through the
        session, so that a notification it holds loaded is updated too.
        """
        to = FROM_MESSAGE.get(message.status)
        if to is None:
            return None
        if not may_move(NotificationStatus.QUEUED, to):
            raise IllegalTransition(f"notification: {NotificationStatus.QUEUED} -> {to}")
        values: dict[str, object] = {"status": to}
        reason = _follow_reason(to, message)
        if reason is not None:
            values["status_reason"] = reason[:500]
        if to is NotificationStatus.SENT:
            values["sent_at"] = utcnow()
        return (
            update(cls)
            .where(cls.message_id == message_id, cls.status == NotificationStatus.QUEUED)
            .values(values)
        )

    @property
    def within_code(self) -> bool | None:
        """Whether it was sent before its Code limit; None when it has no limit or is unsent."""
        if self.due_by is None or self.sent_at is None:
            return None
        return self.sent_at < self.due_by


def _follow_reason(to: NotificationStatus, message: Message) -> str | None:
    """Why a notification moved with its message: the message's error, unless it was sent."""
    return message.error_message if to is not NotificationStatus.SENT else None


class ScheduledUpdate(Base):
    """An update an officer or a case system wrote for a case's victims, to go at a set time.

    It becomes one SCHEDULED notification per victim, which the same rules as every other
    notification govern (quiet hours, opt-out, safe contact, channel). Its status is theirs.
    """

    __tablename__ = "scheduled_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    send_at: Mapped[Timestamp]
    text_en: Mapped[str | None] = mapped_column(Text)
    text_cy: Mapped[str | None] = mapped_column(Text)
    # Both texts in one message to every victim, whatever their language.
    bilingual: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[Timestamp | None]
    cancelled_at: Mapped[Timestamp | None]

    case: Mapped[Case] = relationship()
    notifications: Mapped[list[Notification]] = relationship(
        back_populates="scheduled_update", order_by="Notification.id"
    )


class SurveyResponse(Base):
    """A victim's answer to the closing survey: a score from 1 to 5, then a comment."""

    __tablename__ = "survey_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"), unique=True)
    victim_id: Mapped[int] = mapped_column(ForeignKey("victims.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    score: Mapped[int]
    comment: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[Timestamp]
    commented_at: Mapped[Timestamp | None]
