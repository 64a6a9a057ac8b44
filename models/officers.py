"""Officers who use the console, what each role may do, their sessions and second factor,
their notes, the case systems' API clients, and the audit trail."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
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
    # Accounts whose role sees no victim data (admins'), and the upkeep of every account
    # that does not hand its access to someone else (deactivate, lift a sign-in pause).
    ACCOUNTS = "accounts"
    # Officers' and supervisors' accounts: create, promote, reset a password or second factor.
    # A role that sees victims is granted only by someone who sees them already
    # (services/console/access.py).
    STAFF = "staff"


# What each role may do, in one place; the console checks nothing else. An admin manages
# accounts only: running the system is not a reason to read victims' messages, and an admin
# can grant no role that would let them (services/console/access.may_grant).
ROLE_PERMISSIONS: dict[OfficerRole, frozenset[Permission]] = {
    OfficerRole.OFFICER: frozenset({Permission.WORK}),
    OfficerRole.SUPERVISOR: frozenset({Permission.WORK, Permission.SUPERVISE, Permission.STAFF}),
    OfficerRole.ADMIN: frozenset({Permission.ACCOUNTS}),
}

# The roles that see victims' data: only a supervisor grants them.
VICTIM_DATA_ROLES = frozenset(
    role
    for role, permissions in ROLE_PERMISSIONS.items()
    if permissions & {Permission.WORK, Permission.SUPERVISE}
)


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
    last_login_at: Mapped[Timestamp | None]
    created_at: Mapped[CreatedAt]
    # The second factor (TOTP, RFC 6238): the base32 secret, set at enrolment and confirmed by
    # a first code (totp_enrolled_at); the time step of the last code accepted, so that no
    # code is accepted twice (RFC 6238 section 5.2).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enrolled_at: Mapped[Timestamp | None]
    totp_last_step: Mapped[int | None]
    # A demo account (`make run`): it may sign in without a second factor in development
    # only, and never at all in production.
    demo: Mapped[bool] = mapped_column(default=False, server_default="0")

    def may(self, permission: Permission) -> bool:
        """Whether this officer's role allows `permission`."""
        return self.active and permission in ROLE_PERMISSIONS[self.role]


class OfficerSession(Base):
    """One signed-in browser, held on the server so that it can be ended there.

    The browser's cookie carries a random token; only its SHA-256 is stored. A session ends
    at sign-out, when the officer's password, role or second factor changes or the account
    is deactivated (every session of theirs), after `CONSOLE_IDLE_MINUTES` without activity,
    and `CONSOLE_MAX_HOURS` after it began, whatever happened meanwhile.
    """

    __tablename__ = "officer_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    started_at: Mapped[Timestamp]
    last_seen_at: Mapped[Timestamp]
    ended_at: Mapped[Timestamp | None]
    # signed_out, password, role, deactivated, second_factor, idle, expired.
    end_reason: Mapped[str | None] = mapped_column(String(40))


class RecoveryCode(Base):
    """A one-time code that stands in for the authenticator app, shown once at enrolment.

    Stored as a SHA-256: the codes are random (50 bits), so a slow hash adds nothing.
    """

    __tablename__ = "officer_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[Timestamp | None]
    created_at: Mapped[CreatedAt]


class Throttle(Base):
    """Attempts counted under one key (a username, a client address, an officer's refused
    registrations), each reserved before it is tried, so parallel requests cannot get past
    the limit (services/console/throttle.py)."""

    __tablename__ = "throttles"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    attempts: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[Timestamp]
    # How many times the limit was reached without a quiet day between: each pause is
    # twice as long as the one before.
    strikes: Mapped[int] = mapped_column(default=0)
    blocked_until: Mapped[Timestamp | None]
    last_attempt_at: Mapped[Timestamp | None]


class ApiClient(Base):
    """A case system that calls /api, by name, with a token of its own and its scopes.

    Only the token's SHA-256 is stored (the token is 256 random bits, shown once).
    """

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Space-separated scope names (services/console/api_clients.SCOPES).
    scopes: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[CreatedAt]
    last_used_at: Mapped[Timestamp | None]
    revoked_at: Mapped[Timestamp | None]


class CaseOfficer(Base):
    """An officer is on a case: they registered it in the console, or a supervisor put them
    on it. Being on a case is what lets an officer see its victims
    (services/console/access.py)."""

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


class AttachStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


# A request is decided once: approved (the victim is put on the case) or refused.
ATTACH_TRANSITIONS: dict[AttachStatus, frozenset[AttachStatus]] = {
    AttachStatus.PENDING: frozenset({AttachStatus.APPROVED, AttachStatus.REFUSED}),
    AttachStatus.APPROVED: frozenset(),
    AttachStatus.REFUSED: frozenset(),
}


class IllegalAttachMove(ValueError):
    """An attach request was asked to move where its rules do not allow."""


class AttachRequest(Base):
    """An officer asked to put a victim already registered, whom they may not see, on their
    case; a supervisor decides (services/casework/attach_requests.py)."""

    __tablename__ = "attach_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    victim_id: Mapped[int] = mapped_column(ForeignKey("victims.id"), index=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"))
    # The registration as the officer gave it (the API's payload), applied on approval.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[AttachStatus] = mapped_column(
        enum_column(AttachStatus), default=AttachStatus.PENDING
    )
    requested_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    decided_at: Mapped[Timestamp | None]
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    reason: Mapped[str | None] = mapped_column(String(200))

    officer: Mapped[Officer] = relationship(foreign_keys=[officer_id])

    def move(self, to: AttachStatus, by: Officer, reason: str | None = None) -> None:
        """Decide the request by the rules in ATTACH_TRANSITIONS."""
        if to not in ATTACH_TRANSITIONS[self.status]:
            raise IllegalAttachMove(f"attach request {self.id}: {self.status} -> {to}")
        self.status, self.decided_by, self.decided_at = to, by.id, utcnow()
        self.reason = reason[:200] if reason else None


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
    # Reads that the page's own updates make (coalesced: services/console/audit.record_read).
    VIEW_TRANSCRIPT = "view_transcript"
    VIEW_QUEUE = "view_queue"
    # The case data API's reads.
    READ_NOTIFICATIONS = "read_notifications"
    READ_HANDOFFS = "read_handoffs"
    READ_SCHEDULED_UPDATES = "read_scheduled_updates"
    READ_REFERRALS = "read_referrals"
    READ_REVIEWS = "read_reviews"
    # The Victims' Code duties met by an act (issue 14): a referral reached its service
    # (Right 4); a request for a review was made, acknowledged, decided.
    MARK_REFERRAL_SENT = "mark_referral_sent"
    REQUEST_REVIEW = "request_review"
    ACKNOWLEDGE_REVIEW = "acknowledge_review"
    DECIDE_REVIEW = "decide_review"
    # An API call that its endpoint did not audit in its own terms (a safety net).
    API_CALL = "api_call"
    # Anything refused: a page or an API call the actor may not use, a registration of a
    # victim already known, a sign-in pause. Written in a transaction of its own, so that it
    # stays when the refused act is rolled back.
    REFUSED = "refused"
    # Sign-in and accounts.
    ENROL_SECOND_FACTOR = "enrol_second_factor"
    RESET_SECOND_FACTOR = "reset_second_factor"
    CHANGE_PASSWORD = "change_password"
    # Who may see which case and victim: every grant.
    GRANT_CASE = "grant_case"
    REVOKE_CASE = "revoke_case"
    REQUEST_ATTACH = "request_attach"
    APPROVE_ATTACH = "approve_attach"
    REFUSE_ATTACH = "refuse_attach"
    # The case systems' tokens.
    CREATE_TOKEN = "create_token"
    REVOKE_TOKEN = "revoke_token"
    IMPORT_CASES = "import_cases"
    # Retention, erasure and subject access (UK GDPR, DPA 2018 Part 3).
    EXPORT_VICTIM = "export_victim"
    ERASE_VICTIM = "erase_victim"
    PURGE = "purge"


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
