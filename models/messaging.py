"""Conversations and the messages in them, in and out, with their delivery status."""

from __future__ import annotations

import enum
import uuid

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, CreatedAt, Timestamp, enum_column, utcnow
from models.cases import Channel, Victim


class ConversationState(enum.StrEnum):
    BOT = "bot"
    WAITING_FOR_OFFICER = "waiting_for_officer"
    OFFICER = "officer"
    CLOSED = "closed"


class SentAs(enum.StrEnum):
    """How an outbound message went, decided when it is handed to Twilio."""

    # Free text on the conversation's own channel.
    TEXT = "text"
    # A WhatsApp approved template (ContentSid): free text is refused outside the 24-hour
    # window after the victim's last message.
    TEMPLATE = "template"
    # By SMS to the same phone: WhatsApp's window was shut with no template for the message,
    # or WhatsApp failed to deliver it.
    SMS = "sms"


# The only moves a conversation makes (services/console/takeover.py makes them):
# - a handoff opens: BOT (or CLOSED) -> WAITING_FOR_OFFICER; the bot still answers meanwhile,
#   so a victim who waits is not met with silence;
# - an officer claims it: WAITING_FOR_OFFICER -> OFFICER; the bot stays quiet;
# - the officer hands back (-> BOT), closes (-> CLOSED), or lets it go to the queue again
#   (-> WAITING_FOR_OFFICER); a supervisor may close a waiting one without a claim (-> BOT);
# - a victim who writes to a CLOSED conversation is answered by the bot again (-> BOT).
CONVERSATION_TRANSITIONS: dict[ConversationState, frozenset[ConversationState]] = {
    ConversationState.BOT: frozenset({ConversationState.WAITING_FOR_OFFICER}),
    ConversationState.WAITING_FOR_OFFICER: frozenset(
        {ConversationState.OFFICER, ConversationState.BOT}
    ),
    ConversationState.OFFICER: frozenset(
        {ConversationState.BOT, ConversationState.CLOSED, ConversationState.WAITING_FOR_OFFICER}
    ),
    ConversationState.CLOSED: frozenset(
        {ConversationState.BOT, ConversationState.WAITING_FOR_OFFICER}
    ),
}

# The states in which the bot answers the victim.
BOT_ANSWERS = frozenset({ConversationState.BOT, ConversationState.WAITING_FOR_OFFICER})


class IllegalConversationMove(ValueError):
    """A conversation was asked to move where its rules do not allow."""


class IdentityOutcome(enum.StrEnum):
    """What the last answer to the date-of-birth question came to (services/identity)."""

    VERIFIED = "verified"
    # A date, but not theirs.
    WRONG = "wrong"
    # A wrong date that locked the check (the third since the last success).
    LOCKED = "locked"
    # Looked like a date but is none (31/02/1984): counts nothing.
    UNREADABLE = "unreadable"


class Direction(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Author(enum.StrEnum):
    VICTIM = "victim"
    BOT = "bot"
    SYSTEM = "system"
    OFFICER = "officer"


class MessageStatus(enum.StrEnum):
    """Lifecycle of a message; inbound ones use RECEIVED and PROCESSED only."""

    RECEIVED = "received"
    PROCESSED = "processed"
    # Outbound, ours: written to the outbox, then handed to Twilio.
    PENDING = "pending"
    SUBMITTING = "submitting"
    SUPPRESSED = "suppressed"
    # Outbound, Twilio's (what its status callbacks report; the Message resource's
    # `status`, Twilio's API 2010-04-01, `message_enum_status`).
    ACCEPTED = "accepted"
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    PARTIALLY_DELIVERED = "partially_delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    CANCELED = "canceled"
    READ = "read"


# How far along each outbound status is. A status report may only move a message forward:
# Twilio's callbacks can arrive out of order, and a late "sent" must not undo "delivered".
# Twilio has it but has not sent it yet: accepted, scheduled, queued (2). Outcomes share a
# rank so that none overrides another (5), except "read", which WhatsApp reports after
# "delivered" (6).
STATUS_RANK: dict[MessageStatus, int] = {
    MessageStatus.PENDING: 0,
    MessageStatus.SUBMITTING: 1,
    MessageStatus.ACCEPTED: 2,
    MessageStatus.SCHEDULED: 2,
    MessageStatus.QUEUED: 2,
    MessageStatus.SENDING: 3,
    MessageStatus.SENT: 4,
    MessageStatus.DELIVERED: 5,
    MessageStatus.PARTIALLY_DELIVERED: 5,
    MessageStatus.UNDELIVERED: 5,
    MessageStatus.FAILED: 5,
    MessageStatus.CANCELED: 5,
    MessageStatus.SUPPRESSED: 5,
    MessageStatus.READ: 6,
}

# Outcomes after which the victim may not have the whole text: a notification carried by
# such a message goes again (WhatsApp: by SMS) or an officer is asked to tell the victim
# (services/casework/notifications.settle). "canceled" is a scheduled message withdrawn at
# Twilio (we schedule none there, so someone did it by hand); "partially_delivered" means
# some of it did not arrive. A duplicate is a smaller harm than a missing update.
NOT_DELIVERED = frozenset(
    {
        MessageStatus.FAILED,
        MessageStatus.UNDELIVERED,
        MessageStatus.CANCELED,
        MessageStatus.PARTIALLY_DELIVERED,
    }
)

# Every status Twilio documents for a message, and what a status callback that reports it
# does to one of ours: the status it moves to (if that is forward), or None: recorded and
# moves nothing. "receiving" and "received" describe messages that reach Twilio, not ones
# we sent. A status Twilio adds later is not listed: it is recorded too, and moves nothing
# (inbound.record_status), so that Twilio is never told 400 and made to retry and alert.
TWILIO_STATUSES: dict[str, MessageStatus | None] = {
    "accepted": MessageStatus.ACCEPTED,
    "scheduled": MessageStatus.SCHEDULED,
    "queued": MessageStatus.QUEUED,
    "sending": MessageStatus.SENDING,
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "partially_delivered": MessageStatus.PARTIALLY_DELIVERED,
    "undelivered": MessageStatus.UNDELIVERED,
    "failed": MessageStatus.FAILED,
    "canceled": MessageStatus.CANCELED,
    "read": MessageStatus.READ,
    "receiving": None,
    "received": None,
}


def may_advance(current: MessageStatus, new: MessageStatus) -> bool:
    """Whether an outbound message in `current` may move to `new`."""
    if current in (MessageStatus.RECEIVED, MessageStatus.PROCESSED):
        return False
    return STATUS_RANK[new] > STATUS_RANK[current]


def status_from_callback(current: MessageStatus, reported: str) -> MessageStatus | None:
    """The status a callback reporting `reported` moves a message in `current` to, or None
    when it moves nothing (not forward, not a delivery status, or one Twilio added later)."""
    new = TWILIO_STATUSES.get(reported)
    if new is None or not may_advance(current, new):
        return None
    return new


class InboundShape(enum.StrEnum):
    """What kind of message a victim's phone sent, read from Twilio's webhook
    (services/messaging/shapes.py); docs/INBOUND.md says what the service does with each."""

    TEXT = "text"
    # A reply from a WhatsApp quick-reply button (ButtonText, ButtonPayload) or a list
    # (ListId, ListTitle): its text is what the victim chose.
    BUTTON = "button"
    LIST = "list"
    # The first message from a click-to-WhatsApp ad (ReferralBody and the other Referral*
    # fields describe the ad; the Body is the person's own).
    REFERRAL = "referral"
    # Pictures, video and documents (MMS or WhatsApp media).
    MEDIA = "media"
    # A voice note or other audio.
    VOICE = "voice"
    STICKER = "sticker"
    # A shared location (Latitude, Longitude, and perhaps Address and Label).
    LOCATION = "location"
    # A shared contact card (vCard).
    CONTACTS = "contacts"
    # A WhatsApp reaction (an emoji on one of our messages).
    REACTION = "reaction"
    # Nothing we can read: an empty text, or a kind WhatsApp or Twilio does not pass on.
    UNREADABLE = "unreadable"


class Conversation(Base):
    """The thread with one address (a phone number on one channel)."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Sent to Rasa as the sender id: opaque, so that nothing sequential leaves the app.
    public_id: Mapped[str] = mapped_column(
        String(32), unique=True, default=lambda: uuid.uuid4().hex
    )
    address: Mapped[str] = mapped_column(String(40), unique=True)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    victim_id: Mapped[int | None] = mapped_column(ForeignKey("victims.id"), index=True)
    state: Mapped[ConversationState] = mapped_column(
        enum_column(ConversationState), default=ConversationState.BOT
    )
    last_inbound_at: Mapped[Timestamp | None]
    opted_out_at: Mapped[Timestamp | None]
    # When we last told an unregistered number that we cannot help it (we say it once a day).
    unregistered_reply_at: Mapped[Timestamp | None]
    # Identity for case details (services/identity): the date of birth was confirmed in this
    # conversation until verified_until. Failures and locks are the victim's (models/cases.py),
    # counted across every conversation.
    verified_until: Mapped[Timestamp | None]
    # Set by the assistant when it asks for the date of birth: the next date this
    # conversation sends is the answer, which the service checks and stores redacted. The
    # bot never sees the date, only dob_outcome.
    dob_asked_at: Mapped[Timestamp | None]
    dob_outcome: Mapped[IdentityOutcome | None] = mapped_column(enum_column(IdentityOutcome))
    # A lease lets one worker at a time handle the conversation, which keeps its messages
    # in order; a lease whose owner died simply runs out.
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[Timestamp | None]
    created_at: Mapped[CreatedAt]
    # The officer who has taken the conversation over (state OFFICER), else None.
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"), index=True)
    # Set at a hand-back and cleared once the bot has answered: the next message tells Rasa
    # that an officer has just handed the conversation back.
    handed_back_at: Mapped[Timestamp | None]

    victim: Mapped[Victim | None] = relationship()
    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation", order_by="Message.id"
    )

    def move(self, to: ConversationState) -> None:
        """Change state by the rules in CONVERSATION_TRANSITIONS."""
        if to not in CONVERSATION_TRANSITIONS[self.state]:
            raise IllegalConversationMove(f"conversation {self.id}: {self.state} -> {to}")
        self.state = to

    def end_verification(self) -> None:
        """Whoever holds the phone must prove who they are again before any case detail.

        Called at hand-back, close and STOP (docs/SAFETY.md): one place, so that each ends
        the same things, the question asked for the date of birth included.
        """
        self.verified_until = None
        self.dob_asked_at = None
        self.dob_outcome = None


class Message(Base):
    """One SMS or WhatsApp message, in either direction."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("reply_to_id", "reply_seq"),
        Index("ix_messages_work", "direction", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    direction: Mapped[Direction] = mapped_column(enum_column(Direction))
    author: Mapped[Author] = mapped_column(enum_column(Author))
    body: Mapped[str] = mapped_column(Text, default="")
    num_media: Mapped[int] = mapped_column(default=0)
    # Inbound: what kind of message it was, and the fields of that kind Twilio sent (a
    # location's Latitude, Longitude, Address and Label, a button's payload, the media types,
    # an ad's Referral* fields), kept for the officer who reads the conversation.
    shape: Mapped[InboundShape] = mapped_column(
        enum_column(InboundShape), default=InboundShape.TEXT, server_default=InboundShape.TEXT.value
    )
    details: Mapped[dict[str, str] | None] = mapped_column(JSON)
    # Twilio's MessageSid: unique, which is what makes a retried webhook harmless.
    twilio_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[MessageStatus] = mapped_column(enum_column(MessageStatus))
    error_code: Mapped[int | None]
    error_message: Mapped[str | None] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[Timestamp | None] = mapped_column(default=utcnow)
    # Set when an earlier hand-over to Twilio may or may not have gone through (a crash or a
    # timeout mid-request): Twilio is asked before the message is sent again.
    needs_reconcile: Mapped[bool] = mapped_column(default=False)
    # Only the confirmation of an opt-out may reach an opted-out number.
    bypass_opt_out: Mapped[bool] = mapped_column(default=False)
    # Lower goes first: replies in a conversation go ahead of bulk notifications. Urgent
    # messages (below 0: 999 guidance) are sent without the conversation's lease, by
    # whichever worker claims them first (services/messaging/outbox.claim_urgent).
    priority: Mapped[int] = mapped_column(default=0)
    # Who is sending an urgent message, and until when that claim holds: a claim that runs
    # out (its worker died mid-send) is taken over, and Twilio asked first.
    claim_owner: Mapped[str | None] = mapped_column(String(100))
    claim_until: Mapped[Timestamp | None]
    # The approved WhatsApp template that may carry this message outside the 24-hour window
    # (its ContentSid, and its ContentVariables as JSON), when it has one.
    content_sid: Mapped[str | None] = mapped_column(String(64))
    content_variables: Mapped[str | None] = mapped_column(Text)
    # Why a message that has a template goes without it: its fields broke WhatsApp's rules
    # even once cleaned (services/messaging/templates.py), or it is longer than one message.
    # Outside the 24-hour window it then goes by SMS (`sent_as`).
    no_template_reason: Mapped[str | None] = mapped_column(String(300))
    # A text longer than Twilio takes in one message goes as numbered parts, in order
    # (services/messaging/segments.split_body): each later part points at the first, which
    # is the one a notification follows.
    part_of_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    # How it went (or must go: SMS is set in advance for a fallback); None until handed over.
    sent_as: Mapped[SentAs | None] = mapped_column(enum_column(SentAs))
    # Outbound replies point at the inbound message they answer, numbered, so that the same
    # reply can never be written twice.
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    reply_seq: Mapped[int | None]
    # Which officer wrote it (author OFFICER), for the transcript.
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    created_at: Mapped[CreatedAt]
    processed_at: Mapped[Timestamp | None]
    submitted_at: Mapped[Timestamp | None]
    status_at: Mapped[Timestamp | None]

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class DeliveryEvent(Base):
    """A raw Twilio status callback, kept so a status that arrives early is not lost."""

    __tablename__ = "delivery_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    twilio_sid: Mapped[str] = mapped_column(String(64), index=True)
    # As Twilio wrote it, even a status it adds later (TWILIO_STATUSES lists the known ones).
    status: Mapped[str] = mapped_column(String(40))
    error_code: Mapped[int | None]
    applied: Mapped[bool] = mapped_column(default=False)
    received_at: Mapped[CreatedAt]


class Heartbeat(Base):
    """The last sign of life from a background process, for /healthz."""

    __tablename__ = "heartbeats"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    owner: Mapped[str] = mapped_column(String(100))
    beat_at: Mapped[Timestamp]
