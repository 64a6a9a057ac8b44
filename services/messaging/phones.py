"""Phone numbers: E.164 normalisation and Twilio's channel addresses."""

from __future__ import annotations

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


def split_address(address: str) -> tuple[Channel, str]:
    """Twilio's From/To ('whatsapp:+44...' or '+44...') as a channel and a number."""
    if address.startswith("whatsapp:"):
        return Channel.WHATSAPP, address.removeprefix("whatsapp:")
    return Channel.SMS, address


def redact(phone: str) -> str:
    """A number as logs may show it: the last three digits only."""
    return "…" + phone[-3:] if phone else ""
