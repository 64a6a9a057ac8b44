"""What kind of message a phone sent: read from the fields of Twilio's inbound webhook.

Twilio posts every inbound SMS, MMS and WhatsApp message to the same webhook
(Twilio's "request to your incoming message webhook" guide). Besides Body and the media
(NumMedia, MediaUrlN, MediaContentTypeN), WhatsApp messages carry MessageType (text,
image, video, audio, document, sticker, location, contacts, button, interactive,
reaction, unsupported, ...) and the fields of their kind: Latitude, Longitude, Address
and Label for a location; ButtonText and ButtonPayload for a quick-reply button; ListId
and ListTitle for a list choice; ReferralBody and the other Referral* fields for a
message from a click-to-WhatsApp ad. Twilio adds fields and types without notice, so a
kind this module does not know is still stored and answered: by its text if it has one,
else by saying plainly that we could not read it.

docs/INBOUND.md lists each kind and what the service does with it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from models import InboundShape

# The fields kept with a message, by kind, for the officer who reads the conversation.
LOCATION_FIELDS = ("Latitude", "Longitude", "Address", "Label")
BUTTON_FIELDS = ("ButtonText", "ButtonPayload")
LIST_FIELDS = ("ListId", "ListTitle")
REFERRAL_FIELDS = (
    "ReferralBody",
    "ReferralHeadline",
    "ReferralSourceId",
    "ReferralSourceType",
    "ReferralSourceUrl",
    "ReferralMediaId",
    "ReferralMediaContentType",
    "ReferralMediaUrl",
    "ReferralNumMedia",
    "ReferralCtwaClid",
)
# Each kept value is cut to this many characters: they are for reading, not for storage.
MAX_DETAIL = 500

# What the service says about a kind it cannot read (a key of services/language/texts.py),
# with 999 in each: alone when the message has no words, else before the bot's answer.
NOTICES: dict[InboundShape, str] = {
    InboundShape.MEDIA: "media",
    InboundShape.VOICE: "voice",
    InboundShape.STICKER: "sticker",
    InboundShape.LOCATION: "location",
    InboundShape.CONTACTS: "contacts",
    InboundShape.UNREADABLE: "unreadable",
}

VCARD_TYPES = frozenset({"text/vcard", "text/x-vcard", "text/directory"})
MEDIA_TYPES = frozenset({"image", "video", "document", "file"})


@dataclass(frozen=True)
class Inbound:
    """An inbound message as the service keeps it."""

    shape: InboundShape
    # What the victim said in words: the Body, or the button or list item they chose.
    body: str
    num_media: int
    details: dict[str, str] | None


def _get(form: Mapping[str, str], name: str) -> str:
    return (form.get(name) or "").strip()


def _kept(form: Mapping[str, str], names: tuple[str, ...]) -> dict[str, str]:
    return {name: _get(form, name)[:MAX_DETAIL] for name in names if _get(form, name)}


def _media_types(form: Mapping[str, str], num_media: int) -> list[str]:
    types = (_get(form, f"MediaContentType{i}").lower() for i in range(num_media))
    return [t for t in types if t]


def classify(form: Mapping[str, str], num_media: int) -> Inbound:
    """The kind of message the webhook's `form` describes, its words and its fields.

    `num_media` is the form's NumMedia, already read as a whole number.
    """
    message_type = re.sub(r"[^a-z_]", "", _get(form, "MessageType").lower())
    body = form.get("Body") or ""
    media_types = _media_types(form, num_media)
    media = {"MediaContentTypes": ", ".join(media_types)} if media_types else {}

    def shaped(shape: InboundShape, text: str = body, **details: str) -> Inbound:
        return Inbound(shape, text, num_media, details or None)

    if message_type == "reaction":
        return shaped(InboundShape.REACTION, **_kept(form, ("OriginalRepliedMessageSid",)))
    if message_type == "location" or (_get(form, "Latitude") and _get(form, "Longitude")):
        return shaped(InboundShape.LOCATION, **_kept(form, LOCATION_FIELDS))
    if message_type == "contacts" or any(t in VCARD_TYPES for t in media_types):
        return shaped(InboundShape.CONTACTS, **media)
    if message_type == "sticker":
        return shaped(InboundShape.STICKER, **media)
    if message_type == "audio" or (
        num_media and media_types and all(t.startswith("audio/") for t in media_types)
    ):
        return shaped(InboundShape.VOICE, **media)
    if num_media or message_type in MEDIA_TYPES:
        return shaped(InboundShape.MEDIA, **media)
    if _get(form, "ListId") or _get(form, "ListTitle"):
        chosen = body.strip() or _get(form, "ListTitle")
        return _worded(InboundShape.LIST, chosen, num_media, _kept(form, LIST_FIELDS))
    if _get(form, "ButtonText") or _get(form, "ButtonPayload"):
        chosen = body.strip() or _get(form, "ButtonText")
        return _worded(InboundShape.BUTTON, chosen, num_media, _kept(form, BUTTON_FIELDS))
    if any(_get(form, name) for name in REFERRAL_FIELDS if name != "ReferralNumMedia"):
        # Every SMS carries ReferralNumMedia=0: only the other fields say an ad was clicked.
        return _worded(InboundShape.REFERRAL, body, num_media, _kept(form, REFERRAL_FIELDS))
    kind = {"MessageType": message_type} if message_type else {}
    return _worded(InboundShape.TEXT, body, num_media, kind if not body.strip() else {})


def _worded(shape: InboundShape, text: str, num_media: int, details: dict[str, str]) -> Inbound:
    # Words are what these kinds are for: without any (an empty text, a button with only a
    # payload, or a kind Twilio does not pass on, "unsupported") there is nothing to read.
    if not text.strip():
        return Inbound(InboundShape.UNREADABLE, text, num_media, details or None)
    return Inbound(shape, text, num_media, details or None)
