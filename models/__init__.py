"""The service's typed SQLAlchemy models; import them from here."""

from models.assessments import (
    AssessmentStatus,
    NeedsAnswer,
    NeedsAssessment,
    NeedsQuestion,
    Referral,
)
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
    IdentityOutcome,
    Message,
    MessageStatus,
    SentAs,
    may_advance,
)
from models.notifications import (
    Notification,
    NotificationKind,
    NotificationStatus,
    ScheduledUpdate,
    SurveyResponse,
)
from models.officers import (
    AuditAction,
    AuditEvent,
    CaseOfficer,
    Officer,
    OfficerNote,
    OfficerRole,
    Permission,
)
from models.protection import RequestStatus, Setting, SettingRequest
from models.scheduling import apscheduler_jobs

__all__ = [
    "AssessmentStatus",
    "AuditAction",
    "AuditEvent",
    "Author",
    "Base",
    "Case",
    "CaseEvent",
    "CaseOfficer",
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
    "IdentityOutcome",
    "Language",
    "Message",
    "NeedsAnswer",
    "NeedsAssessment",
    "NeedsQuestion",
    "MessageStatus",
    "Notification",
    "NotificationKind",
    "NotificationStatus",
    "Referral",
    "RequestStatus",
    "Officer",
    "OfficerNote",
    "OfficerRole",
    "Permission",
    "ScheduledUpdate",
    "SentAs",
    "Setting",
    "SettingRequest",
    "SurveyResponse",
    "Victim",
    "apscheduler_jobs",
    "channel_address",
    "may_advance",
    "utcnow",
]
