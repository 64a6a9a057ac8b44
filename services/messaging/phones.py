"""Phone numbers: E.164 normalisation, Twilio's channel addresses, and who a sender is."""

from __future__ import annotations

import enum
import re

import phonenumbers

from models import Channel

# Ofcom keeps +44 7700 900000-900999 for drama; libphonenumber calls them invalid, but the
# demo and the tests use nothing else.
DRAMA_PREFIX = "+447700900"


def normalise(raw: str) -> str | None:
    """The E.164 form of a UK or international number, or None when it is not a number."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        number = phonenumbers.parse(raw, "GB")
    except phonenumbers.NumberParseException:
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if phonenumbers.is_valid_number(number):
        return e164
    if e164.startswith(DRAMA_PREFIX) and len(e164) == len(DRAMA_PREFIX) + 3:
        return e164
    return None


class SenderKind(enum.StrEnum):
    """Who an inbound message's From is, and so whether anything can be sent back."""

    # A phone number (E.164): a person, who can be answered.
    PHONE = "phone"
    # An alphanumeric sender ID (a business's name, "PARCELCO"): one-way, cannot be answered.
    ALPHANUMERIC = "alphanumeric"
    # A short code (a few digits, "60123"): a service's number, never a person's phone.
    SHORT_CODE = "short_code"


# E.164: "+", a country code and at most 15 digits. A number libphonenumber does not know
# yet (a new range) is still a phone: a cry for help from it must reach a person.
E164 = re.compile(r"\+[1-9]\d{6,14}")
# Twilio's alphanumeric sender IDs: 1 to 11 of A-Z, a-z, 0-9, space, + - _ &, at least one
# letter (Twilio's AlphaSender resource, Messaging API v1).
ALPHANUMERIC = re.compile(r"(?=[^A-Za-z]*[A-Za-z])[A-Za-z0-9 +\-_&]{1,11}")
# Short codes are 3 to 8 digits, written without a "+" (the UK's have 5).
SHORT_CODE = re.compile(r"\d{3,8}")


def sender_kind(sender: str) -> SenderKind | None:
    """What Twilio's From (without any "whatsapp:") is, or None when it is none of them."""
    if normalise(sender) == sender or E164.fullmatch(sender):
        return SenderKind.PHONE
    if SHORT_CODE.fullmatch(sender):
        return SenderKind.SHORT_CODE
    if ALPHANUMERIC.fullmatch(sender):
        return SenderKind.ALPHANUMERIC
    return None


def can_answer(address: str) -> bool:
    """Whether a message can be sent back to `address` (a phone; never a sender ID or a
    short code, which cannot take replies and may be a machine that answers back)."""
    return sender_kind(split_address(address)[1]) is SenderKind.PHONE


def split_address(address: str) -> tuple[Channel, str]:
    """Twilio's From/To ('whatsapp:+44...' or '+44...') as a channel and a number."""
    if address.startswith("whatsapp:"):
        return Channel.WHATSAPP, address.removeprefix("whatsapp:")
    return Channel.SMS, address


def redact(phone: str) -> str:
    """A number as logs may show it: the last three digits only."""
    return "…" + phone[-3:] if phone else ""
