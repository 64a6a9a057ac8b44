"""The dev phone's own record of what it sent and received (dev and demo only)."""

from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, CreatedAt


class DevPhoneMessage(Base):
    """A message as the handset sees it: typed on it, or delivered to it via the fake API."""

    __tablename__ = "devphone_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), unique=True)
    # "from_handset" was typed on the dev phone; "to_handset" came through Messages.json.
    direction: Mapped[str] = mapped_column(String(20))
    handset: Mapped[str] = mapped_column(String(40), index=True)
    service_number: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text, default="")
    content_sid: Mapped[str | None] = mapped_column(String(64))
    content_variables: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    error_code: Mapped[int | None]
    status_callback: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[CreatedAt]
