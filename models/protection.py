"""A victim's protective settings by name, and a change that waits for an officer.

The rules (which value of each setting protects more, who may change what) are in
services/casework/protection.py; this module holds only what is stored.
"""

from __future__ import annotations

import enum

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, Timestamp, enum_column, utcnow
from models.cases import Victim


class Setting(enum.StrEnum):
    """The settings of a Victim that a victim, an officer or the API may change."""

    FREQUENCY = "frequency"  # Victim.update_every_days
    QUIET_HOURS = "quiet_hours"  # Victim.quiet_start, Victim.quiet_end
    CHANNEL = "channel"
    SAFE_CONTACT = "safe_contact"
    ENHANCED_RIGHTS = "enhanced_rights"
    LANGUAGE = "language"


class RequestStatus(enum.StrEnum):
    # Asked for by text; nothing has changed yet.
    PENDING = "pending"
    # An officer confirmed it with the victim by another route: it took effect.
    CONFIRMED = "confirmed"
    # An officer kept the setting as it was.
    REFUSED = "refused"
    # The victim asked for the opposite before an officer decided.
    WITHDRAWN = "withdrawn"


# The only moves a request makes; a decided request never changes again.
REQUEST_TRANSITIONS: dict[RequestStatus, frozenset[RequestStatus]] = {
    RequestStatus.PENDING: frozenset(
        {RequestStatus.CONFIRMED, RequestStatus.REFUSED, RequestStatus.WITHDRAWN}
    ),
    RequestStatus.CONFIRMED: frozenset(),
    RequestStatus.REFUSED: frozenset(),
    RequestStatus.WITHDRAWN: frozenset(),
}


class IllegalRequestMove(ValueError):
    """A setting request was asked to move where its rules do not allow."""


class SettingRequest(Base):
    """A change to a protective setting that takes effect only once an officer confirms it.

    Today one change waits like this: safe contact off, asked for by text. Safe contact stays
    on until an officer has spoken to the victim by another route (docs/SAFETY.md).
    """

    __tablename__ = "setting_requests"
    __table_args__ = (
        # One pending request per victim and setting: asking twice adds nothing.
        Index(
            "uq_setting_requests_one_pending",
            "victim_id",
            "setting",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    victim_id: Mapped[int] = mapped_column(ForeignKey("victims.id"), index=True)
    # Where it was asked for (None when it did not come by text).
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    setting: Mapped[Setting] = mapped_column(enum_column(Setting))
    # The value asked for, as the audit trail writes it ("off").
    value: Mapped[str] = mapped_column(String(100))
    status: Mapped[RequestStatus] = mapped_column(
        enum_column(RequestStatus), default=RequestStatus.PENDING
    )
    requested_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    decided_at: Mapped[Timestamp | None]
    # The officer who confirmed or refused it.
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))

    victim: Mapped[Victim] = relationship()

    def move(self, to: RequestStatus) -> None:
        """Change status by the rules in REQUEST_TRANSITIONS, recording when."""
        if to not in REQUEST_TRANSITIONS[self.status]:
            raise IllegalRequestMove(f"setting request {self.id}: {self.status} -> {to}")
        self.status = to
        self.decided_at = utcnow()
