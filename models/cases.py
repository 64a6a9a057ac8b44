"""Cases, the victims on them, and the events of an investigation."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, String, Text, Time, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, CreatedAt, Timestamp, enum_column


class Channel(enum.StrEnum):
    SMS = "sms"
    WHATSAPP = "whatsapp"


class Language(enum.StrEnum):
    EN = "en"
    CY = "cy"


class CaseStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class EventType(enum.StrEnum):
    OFFICER_ASSIGNED = "officer_assigned"
    SUSPECT_ARRESTED = "suspect_arrested"
    SUSPECT_INTERVIEWED = "suspect_interviewed"
    SUSPECT_RELEASED_ON_BAIL = "suspect_released_on_bail"
    SUSPECT_RELEASED_UNDER_INVESTIGATION = "suspect_released_under_investigation"
    BAIL_CONDITIONS_CHANGED = "bail_conditions_changed"
    SUSPECT_RELEASED_NO_FURTHER_ACTION = "suspect_released_no_further_action"
    SUSPECT_CHARGED = "suspect_charged"
    COURT_HEARING_SCHEDULED = "court_hearing_scheduled"
    CASE_OUTCOME = "case_outcome"
    INVESTIGATION_CLOSED = "investigation_closed"
    GENERAL_UPDATE = "general_update"


class Case(Base):
    """A crime report that the victim care unit follows."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_ref: Mapped[str] = mapped_column(String(64), unique=True)
    crime_type: Mapped[str] = mapped_column(String(200))
    officer_in_charge: Mapped[str] = mapped_column(String(200))
    status: Mapped[CaseStatus] = mapped_column(enum_column(CaseStatus), default=CaseStatus.OPEN)
    created_at: Mapped[CreatedAt]
    closed_at: Mapped[Timestamp | None]

    victims: Mapped[list[CaseVictim]] = relationship(back_populates="case")
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.occurred_at"
    )


class Victim(Base):
    """A person the unit keeps informed; one phone number, possibly several cases."""

    __tablename__ = "victims"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    language: Mapped[Language] = mapped_column(enum_column(Language))
    date_of_birth: Mapped[dt.date]
    enhanced_rights: Mapped[bool] = mapped_column(default=False)
    update_every_days: Mapped[int] = mapped_column(default=28)
    quiet_start: Mapped[dt.time] = mapped_column(Time(), default=dt.time(20, 0))
    quiet_end: Mapped[dt.time] = mapped_column(Time(), default=dt.time(8, 0))
    safe_contact: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[CreatedAt]
    # The identity check (services/identity/verification.py), counted for the person across
    # every channel and conversation: wrong dates of birth since the last success, lock or
    # unlock; locks since an officer last unlocked; the first lock's end (midnight, London);
    # and a lock held until an officer unlocks it (any lock after the first).
    identity_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    identity_locks: Mapped[int] = mapped_column(default=0, server_default="0")
    identity_locked_until: Mapped[Timestamp | None]
    identity_held: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Set when the victim was erased (on request, or when their data's time ran out): the
    # row stays, emptied, so that the audit trail, which the Data Protection Act 2018
    # (section 62) requires to be kept, still has something to point at.
    erased_at: Mapped[Timestamp | None]

    cases: Mapped[list[CaseVictim]] = relationship(back_populates="victim")

    @property
    def address(self) -> str:
        """Where Twilio delivers to this victim on their chosen channel."""
        return channel_address(self.channel, self.phone)


def channel_address(channel: Channel, phone: str) -> str:
    """Twilio's address for a phone on a channel: WhatsApp numbers carry a prefix."""
    return f"whatsapp:{phone}" if channel is Channel.WHATSAPP else phone


class CaseVictim(Base):
    """A victim's place on a case."""

    __tablename__ = "case_victims"
    __table_args__ = (UniqueConstraint("case_id", "victim_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    victim_id: Mapped[int] = mapped_column(ForeignKey("victims.id"), index=True)
    created_at: Mapped[CreatedAt]

    case: Mapped[Case] = relationship(back_populates="victims")
    victim: Mapped[Victim] = relationship(back_populates="cases")


class CaseEvent(Base):
    """Something that happened in the investigation, in words the victim may be told."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    type: Mapped[EventType] = mapped_column(enum_column(EventType))
    occurred_at: Mapped[Timestamp]
    summary: Mapped[str] = mapped_column(Text)
    # The same in Welsh, for victims who chose Welsh; without it they get `summary` as given.
    summary_cy: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[CreatedAt]

    case: Mapped[Case] = relationship(back_populates="events")
