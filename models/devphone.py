"""The dev phone's own record of what it sent and received (dev and demo only)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, CreatedAt, Timestamp


class DevPhoneMessage(Base):
    """A message as the handset sees it: typed on it, or delivered to it via the fake API."""

    __tablename__ = "devphone_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), unique=True)
    # "from_handset" was typed on the dev phone; "to_handset" came through Messages.json.
    direction: Mapped[str] = mapped_column(String(20))
    # Twilio addresses: "+447700900123" on SMS, "whatsapp:+447700900123" on WhatsApp, so the
    # channel is part of the handset's address just as it is in Twilio's From and To.
    handset: Mapped[str] = mapped_column(String(40), index=True)
    service_number: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text, default="")
    num_media: Mapped[int] = mapped_column(default=0, server_default="0")
    messaging_service_sid: Mapped[str | None] = mapped_column(String(64))
    content_sid: Mapped[str | None] = mapped_column(String(64))
    content_variables: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    error_code: Mapped[int | None]
    status_callback: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[CreatedAt]
    # Twilio's date_sent and date_updated: set as the fake delivery goes on.
    sent_at: Mapped[Timestamp | None]
    updated_at: Mapped[Timestamp | None]


class DevPhoneControl(Base):
    """The dev phone's injected faults: one row (id 1), read by every process."""

    __tablename__ = "devphone_control"

    id: Mapped[int] = mapped_column(primary_key=True)
    # A column of its own, so that one UPDATE can take a failure off it atomically even when
    # several web workers create messages at once.
    fail_next: Mapped[int] = mapped_column(default=0, server_default="0")
    # Everything else: fail_status, reject, delay_seconds, callback_* (see webhooks/devphone).
    faults: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[Timestamp | None]
