"""Twilio's own rules for creating a message: the ones its OpenAPI schema cannot say."""

from __future__ import annotations

import datetime as dt
import json
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


# WhatsApp's rules for what fills an approved template, as Twilio reports a breach: the
# message is taken, then fails with 63013 ("channel policy violation"). A variable may not
# be empty, nor hold a newline, a tab, or more than four spaces in a row; the body once
# filled in is at most 1,024 characters. Kept apart from services/messaging/templates.py
# on purpose, like the window above: the dev phone plays WhatsApp, not our own code.
POLICY_VIOLATION = 63013
TEMPLATE_BODY_LIMIT = 1024
# ContentVariables that are not a JSON object of texts: refused at once.
INVALID_CONTENT_VARIABLES = 21656


def template_refusal(approved_text: str, content_variables: object) -> int | None:
    """Why WhatsApp would refuse this template filled with these ContentVariables: an error
    code, or None when it takes it."""
    try:
        values = json.loads(content_variables) if isinstance(content_variables, str) else {}
    except ValueError:
        return INVALID_CONTENT_VARIABLES
    if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
        return INVALID_CONTENT_VARIABLES
    wanted = re.findall(r"\{\{(\d+)\}\}", approved_text)
    for number in wanted:
        value = values.get(number, "")
        if not value.strip() or "\n" in value or "\t" in value or "     " in value:
            return POLICY_VIOLATION
    filled = re.sub(r"\{\{(\d+)\}\}", lambda m: values.get(m.group(1), ""), approved_text)
    if len(filled) > TEMPLATE_BODY_LIMIT:
        return POLICY_VIOLATION
    return None
