"""The service's typed SQLAlchemy models; import them from here."""

from models.base import Base, utcnow
from models.cases import (
    Case,
    CaseEvent,
    CaseStatus,
    CaseVictim,
    Channel,
    EventType,
    Language,
    Victim,
    channel_address,
)
from models.devphone import DevPhoneMessage
from models.handoffs import Handoff, HandoffPriority, HandoffStatus
from models.messaging import (
    Author,
    Conversation,
    ConversationState,
    DeliveryEvent,
    Direction,
    Heartbeat,
    Message,
    MessageStatus,
    may_advance,
)
from models.notifications import Notification, NotificationKind, NotificationStatus

__all__ = [
    "Author",
    "Base",
    "Case",
    "CaseEvent",
    "CaseStatus",
    "CaseVictim",
    "Channel",
    "Conversation",
    "ConversationState",
    "DeliveryEvent",
    "DevPhoneMessage",
    "Direction",
    "EventType",
    "Handoff",
    "HandoffPriority",
    "HandoffStatus",
    "Heartbeat",
    "Language",
    "Message",
    "MessageStatus",
    "Notification",
    "NotificationKind",
    "NotificationStatus",
    "Victim",
    "channel_address",
    "may_advance",
    "utcnow",
]
