"""Officers who use the console, what each role may do, their notes, and the audit trail."""

from __future__ import annotations

import enum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, CreatedAt, Timestamp, enum_column, utcnow


class OfficerRole(enum.StrEnum):
    OFFICER = "officer"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class Permission(enum.StrEnum):
    # The queue, conversations, claims, replies, notes, hand-backs, cases.
    WORK = "work"
    # Every conversation and case, not only one's own; reports; the audit trail.
    SUPERVISE = "supervise"
    # Officers' accounts.
    ACCOUNTS = "accounts"


# What each role may do, in one place; the console checks nothing else. An admin manages
# accounts only: running the system is not a reason to read victims' messages.
ROLE_PERMISSIONS: dict[OfficerRole, frozenset[Permission]] = {
    OfficerRole.OFFICER: frozenset({Permission.WORK}),
    OfficerRole.SUPERVISOR: frozenset({Permission.WORK, Permission.SUPERVISE}),
    OfficerRole.ADMIN: frozenset({Permission.ACCOUNTS}),
}


class Officer(Base):
    """A person who signs in to the console."""

    __tablename__ = "officers"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    # How victims' transcripts and the audit trail name them ("PC Alys Pritchard").
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[OfficerRole] = mapped_column(enum_column(OfficerRole))
    # werkzeug.security's scrypt hash (method, salt and parameters inside the string).
    password_hash: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[Timestamp | None]
    last_login_at: Mapped[Timestamp | None]
    created_at: Mapped[CreatedAt]

    def may(self, permission: Permission) -> bool:
        """Whether this officer's role allows `permission`."""
        return self.active and permission in ROLE_PERMISSIONS[self.role]


class CaseOfficer(Base):
    """An officer is on a case: they registered it, or took over one of its victims."""

    __tablename__ = "case_officers"
    __table_args__ = (UniqueConstraint("case_id", "officer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)
    created_at: Mapped[CreatedAt]


class OfficerNote(Base):
    """An internal note on a conversation. A table of its own, never the outbox's: a note
    has no path to the victim."""

    __tablename__ = "officer_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[CreatedAt]

    officer: Mapped[Officer] = relationship()


class AuditAction(enum.StrEnum):
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    VIEW_CONVERSATION = "view_conversation"
    VIEW_PROFILE = "view_profile"
    VIEW_CASE = "view_case"
    CLAIM = "claim"
    REPLY = "reply"
    NOTE = "note"
    HAND_BACK = "hand_back"
    CLOSE = "close"
    REGISTER_CASE = "register_case"
    REGISTER_VICTIM = "register_victim"
    RECORD_EVENT = "record_event"
    SCHEDULE_UPDATE = "schedule_update"
    CHANGE_SCHEDULED_UPDATE = "change_scheduled_update"
    CANCEL_SCHEDULED_UPDATE = "cancel_scheduled_update"
    CLOSE_CASE = "close_case"
    CREATE_OFFICER = "create_officer"
    CHANGE_OFFICER = "change_officer"
    EXPORT_AUDIT = "export_audit"
    VIEW_REPORT = "view_report"
    # A victim's setting changed (by text, an officer, the API or an import): "what: a -> b".
    CHANGE_SETTING = "change_setting"
    # A change that waits for an officer (safe contact off by text), and what became of it.
    REQUEST_SETTING = "request_setting"
    CONFIRM_SETTING = "confirm_setting"
    REFUSE_SETTING = "refuse_setting"
    WITHDRAW_SETTING = "withdraw_setting"
    # The identity check locked for a victim (wrong dates of birth), and an officer unlocked it.
    LOCK_IDENTITY = "lock_identity"
    UNLOCK_IDENTITY = "unlock_identity"


class AuditEvent(Base):
    """Who did what, to which victim's data, and when. Written, never changed."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_at", "at"),
        Index("ix_audit_events_victim", "victim_id", "at"),
        Index("ix_audit_events_officer", "officer_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[Timestamp] = mapped_column(default=utcnow)
    # None for a failed login under a name that belongs to nobody; `actor` keeps the name.
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[AuditAction] = mapped_column(enum_column(AuditAction))
    victim_id: Mapped[int | None] = mapped_column(ForeignKey("victims.id"))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    # What, in a few words, never a message body.
    detail: Mapped[str] = mapped_column(String(500), default="")
