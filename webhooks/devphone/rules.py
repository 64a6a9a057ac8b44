"""Twilio's own rules for creating a message: the ones its OpenAPI schema cannot say."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Channel
from models.devphone import DevPhoneMessage
from services.messaging.twilio_gateway import sender_address
from services.settings import Settings

E164 = re.compile(r"\+[1-9]\d{1,14}")
MAX_BODY = 1600


@dataclass(frozen=True)
class Refusal:
    """Why Twilio refuses a create: its error code, HTTP status, and what the message names."""

    code: int
    status: int = 400
    details: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Addresses:
    """Who a create sends from and to, once the rules have passed."""

    sender: str
    recipient: str


def is_address(value: str) -> bool:
    """Whether `value` is an E.164 number, optionally as a WhatsApp address."""
    return E164.fullmatch(value.removeprefix("whatsapp:")) is not None


def check_create(form: Mapping[str, Any], settings: Settings) -> Refusal | Addresses:
    """Apply Twilio's rules to a create, in the order Twilio reports them."""
    to = str(form.get("To") or "").strip()
    if not to:
        return Refusal(21604)
    if not is_address(to):
        return Refusal(21211, details={"to": to})
    whatsapp_to = to.startswith("whatsapp:")
    ours_sms = sender_address(settings, Channel.SMS)
    ours_whatsapp = sender_address(settings, Channel.WHATSAPP)
    sender = str(form.get("From") or "").strip()
    if not sender:
        if not form.get("MessagingServiceSid"):
            return Refusal(21603)
        # Our one "service" sends from our number on the recipient's channel.
        sender = ours_whatsapp if whatsapp_to else ours_sms
    if sender.startswith("whatsapp:") and sender != ours_whatsapp:
        return Refusal(63007)
    if not sender.startswith("whatsapp:") and sender != ours_sms:
        return Refusal(21606, details={"from_": sender})
    if sender.startswith("whatsapp:") != whatsapp_to:
        return Refusal(21910)
    callback = form.get("StatusCallback")
    if isinstance(callback, str) and callback:
        parts = urlsplit(callback)
        if parts.scheme not in ("http", "https") or not parts.hostname or "_" in parts.hostname:
            return Refusal(21609)
    body = form.get("Body")
    if not body and not form.get("MediaUrl") and not form.get("ContentSid"):
        return Refusal(21602)
    if isinstance(body, str) and len(body) > MAX_BODY:
        return Refusal(21617)
    return Addresses(sender=sender, recipient=to)


# WhatsApp's "re-engagement" error: free text outside the 24-hour customer service window.
# Kept apart from the outbox's own rule (services/messaging/outbox.py) on purpose: the dev
# phone plays Twilio, and a shared constant would let a mistake in one hide in both.
OUTSIDE_WINDOW = 63016
WHATSAPP_WINDOW = dt.timedelta(hours=24)


def whatsapp_window_open(session: Session, handset: str, now: dt.datetime) -> bool:
    """Whether `handset` wrote to us on WhatsApp within the last 24 hours."""
    last = session.scalar(
        select(func.max(DevPhoneMessage.created_at)).where(
            DevPhoneMessage.handset == handset, DevPhoneMessage.direction == "from_handset"
        )
    )
    return last is not None and now - last < WHATSAPP_WINDOW
