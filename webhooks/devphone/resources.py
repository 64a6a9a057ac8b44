"""Twilio's JSON shapes: a Message resource, a page of them, an error, and SMS segments."""

from __future__ import annotations

import datetime as dt
import email.utils
import secrets
from collections import defaultdict
from typing import Any

from flask import Response, jsonify

from models.devphone import DevPhoneMessage
from services.messaging.segments import segments

API_VERSION = "2010-04-01"

ERROR_MESSAGES = {
    20003: "Authenticate",
    20404: "The requested resource {path} was not found",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    21211: "The 'To' number {to} is not a valid phone number.",
    21602: "Message body is required.",
    21603: "A 'From' or 'MessagingServiceSid' parameter is required to send a message.",
    21604: "A 'To' phone number is required.",
    21606: "The 'From' phone number provided ({from_}) is not a valid message-capable "
    "Twilio phone number for this destination/account.",
    21609: "The StatusCallback URL is not a valid URL.",
    21610: "Attempt to send to unsubscribed recipient",
    21617: "The concatenated message body exceeds the 1600 character limit.",
    21656: "The ContentVariables Parameter is invalid.",
    21910: "Invalid 'From' and 'To' pair. 'From' and 'To' should be of the same channel.",
    63007: "Twilio could not find a Channel with the specified From address",
}

# What a status callback's ErrorCode means, for the resource's error_message.
DELIVERY_ERRORS = {
    21610: "Attempt to send to unsubscribed recipient",
    30003: "Unreachable destination handset",
    30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier",
    30007: "Message filtered",
    30008: "Unknown error",
    63013: "This message send failed because it violates Channel provider's policy.",
    63016: "Failed to send freeform message because you are outside the allowed window.",
}


def new_sid(prefix: str = "SM") -> str:
    """A Twilio SID: two letters and 32 hex digits."""
    return prefix + secrets.token_hex(16)


def rfc2822(moment: dt.datetime | None) -> str | None:
    """A time as Twilio writes it: 'Thu, 24 Aug 2023 05:01:45 +0000'."""
    if moment is None:
        return None
    return email.utils.format_datetime(moment.astimezone(dt.UTC).replace(microsecond=0))


def error_json(code: int, status: int, **details: str) -> Response:
    """Twilio's error body with its HTTP status."""
    # A detail the caller did not give (an injected code, say) reads as blank, not a crash.
    template = ERROR_MESSAGES.get(code, "Invalid request")
    message = details.get("message") or template.format_map(defaultdict(str, details))
    response = jsonify(
        code=code,
        message=message,
        more_info=f"https://www.twilio.com/docs/errors/{code}",
        status=status,
    )
    response.status_code = status
    return response


def message_uri(account_sid: str, sid: str) -> str:
    """The resource's own path, as Twilio gives it in `uri`."""
    return f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}.json"


def message_json(message: DevPhoneMessage, account_sid: str) -> dict[str, Any]:
    """A stored message as Twilio's Message resource."""
    outbound = message.direction == "to_handset"
    sender, recipient = (
        (message.service_number, message.handset)
        if outbound
        else (message.handset, message.service_number)
    )
    whatsapp = recipient.startswith("whatsapp:")
    base = f"/{API_VERSION}/Accounts/{account_sid}/Messages/{message.sid}"
    return {
        "account_sid": account_sid,
        "api_version": API_VERSION,
        "body": message.body,
        "date_created": rfc2822(message.created_at),
        "date_sent": rfc2822(message.sent_at),
        "date_updated": rfc2822(message.updated_at or message.created_at),
        "direction": "outbound-api" if outbound else "inbound",
        "error_code": message.error_code,
        "error_message": (
            DELIVERY_ERRORS.get(message.error_code, "Unknown error") if message.error_code else None
        ),
        "from": sender,
        "messaging_service_sid": message.messaging_service_sid,
        "num_media": str(message.num_media),
        # WhatsApp has no segments; Twilio reports one.
        "num_segments": "1" if whatsapp else str(segments(message.body)),
        "price": None,
        "price_unit": "USD",
        "sid": message.sid,
        "status": message.status if outbound else "received",
        "subresource_uris": {"media": f"{base}/Media.json"},
        "to": recipient,
        "uri": f"{base}.json",
    }
