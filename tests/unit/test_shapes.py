"""Reading Twilio's inbound webhook: the kind of message, and who sent it (pure logic; the
same shapes end to end are in tests/integration/test_inbound_shapes.py and
tests/e2e/test_inbound_shapes.py)."""

from __future__ import annotations

import pytest

from models import InboundShape as S
from services.messaging.phones import SenderKind, can_answer, sender_kind
from services.messaging.shapes import NOTICES, classify

WA = {"From": "whatsapp:+447700900123", "ProfileName": "Rhiannon", "WaId": "447700900123"}


def _form(body: str = "", **fields: str) -> dict[str, str]:
    return {**WA, "Body": body, "NumMedia": fields.pop("NumMedia", "0"), **fields}


@pytest.mark.parametrize(
    ("form", "shape", "words"),
    [
        (_form("any news?", MessageType="text"), S.TEXT, "any news?"),
        ({"From": "+447700900123", "Body": "any news?"}, S.TEXT, "any news?"),
        (
            _form(MessageType="location", Latitude="51.4816", Longitude="-3.1791"),
            S.LOCATION,
            "",
        ),
        # A pin sent without MessageType (older senders) is still a location.
        (_form(Latitude="51.48", Longitude="-3.18", Label="Home"), S.LOCATION, ""),
        (
            _form(MessageType="contacts", NumMedia="1", MediaContentType0="text/vcard"),
            S.CONTACTS,
            "",
        ),
        (_form(NumMedia="1", MediaContentType0="text/x-vcard"), S.CONTACTS, ""),
        (_form(MessageType="sticker", NumMedia="1", MediaContentType0="image/webp"), S.STICKER, ""),
        (_form(MessageType="audio", NumMedia="1", MediaContentType0="audio/ogg"), S.VOICE, ""),
        ({"From": "+447700900123", "NumMedia": "1", "MediaContentType0": "audio/amr"}, S.VOICE, ""),
        (_form(MessageType="image", NumMedia="1", MediaContentType0="image/jpeg"), S.MEDIA, ""),
        (_form("look", MessageType="image", NumMedia="1"), S.MEDIA, "look"),
        (_form(MessageType="document", NumMedia="1"), S.MEDIA, ""),
        (_form(MessageType="video", NumMedia="1"), S.MEDIA, ""),
        (_form("👍", MessageType="reaction"), S.REACTION, "👍"),
        # Quick replies and list choices: what the victim chose is what they said.
        (
            _form("Yes please", MessageType="button", ButtonText="Yes please", ButtonPayload="y"),
            S.BUTTON,
            "Yes please",
        ),
        (
            _form(MessageType="button", ButtonText="Talk to an officer"),
            S.BUTTON,
            "Talk to an officer",
        ),
        (_form(MessageType="interactive", ListId="opt-2", ListTitle="Support"), S.LIST, "Support"),
        (_form(MessageType="button", ButtonPayload="opaque-1"), S.UNREADABLE, ""),
        (
            _form("Hi, I saw your advert", ReferralBody="Help after crime", ReferralSourceId="1"),
            S.REFERRAL,
            "Hi, I saw your advert",
        ),
        # Every SMS carries ReferralNumMedia=0: that alone is no ad.
        ({"From": "+447700900123", "Body": "hi", "ReferralNumMedia": "0"}, S.TEXT, "hi"),
        (_form(MessageType="unsupported"), S.UNREADABLE, ""),
        (_form("   "), S.UNREADABLE, "   "),
        # A kind Twilio adds later: its words if it has any, else "we could not read it".
        (_form("hello", MessageType="poll_vote"), S.TEXT, "hello"),
        (_form(MessageType="poll_vote"), S.UNREADABLE, ""),
    ],
)
def test_each_documented_shape(form: dict[str, str], shape: S, words: str) -> None:
    inbound = classify(form, int(form.get("NumMedia", "0")))
    assert (inbound.shape, inbound.body) == (shape, words)


def test_the_fields_of_a_shape_are_kept_for_the_officer() -> None:
    location = classify(
        _form(
            MessageType="location",
            Latitude="51.4816",
            Longitude="-3.1791",
            Address="Cardiff Central, Central Square",
            Label="Station",
        ),
        0,
    )
    assert location.details == {
        "Latitude": "51.4816",
        "Longitude": "-3.1791",
        "Address": "Cardiff Central, Central Square",
        "Label": "Station",
    }
    button = classify(_form("Yes", ButtonText="Yes", ButtonPayload="consent-yes"), 0)
    assert button.details == {"ButtonText": "Yes", "ButtonPayload": "consent-yes"}
    picture = classify(_form(NumMedia="2", MediaContentType0="image/png"), 2)
    assert picture.details == {"MediaContentTypes": "image/png"}
    assert classify(_form("hi"), 0).details is None


def test_every_shape_without_words_has_something_to_say() -> None:
    # Reactions are left unanswered on purpose; the worded kinds go to the assistant.
    answered_by_bot = {S.TEXT, S.BUTTON, S.LIST, S.REFERRAL}
    assert set(NOTICES) == set(S) - answered_by_bot - {S.REACTION}


@pytest.mark.parametrize(
    ("sender", "kind"),
    [
        ("+447700900123", SenderKind.PHONE),
        ("+4477009001234", SenderKind.PHONE),  # a range libphonenumber does not know yet
        ("+12025550123", SenderKind.PHONE),
        ("PARCELCO", SenderKind.ALPHANUMERIC),
        ("O2", SenderKind.ALPHANUMERIC),
        ("Vodafone UK", SenderKind.ALPHANUMERIC),
        ("GP-SURGERY", SenderKind.ALPHANUMERIC),
        ("60123", SenderKind.SHORT_CODE),
        ("88150", SenderKind.SHORT_CODE),
        ("not-a-number", None),  # 12 characters: no sender ID is that long
        ("12", None),
        ("+44", None),
        ("", None),
        ("hello world!", None),
    ],
)
def test_who_a_sender_is(sender: str, kind: SenderKind | None) -> None:
    assert sender_kind(sender) is kind


def test_only_phones_can_be_answered() -> None:
    assert can_answer("+447700900123") and can_answer("whatsapp:+447700900123")
    assert not can_answer("PARCELCO") and not can_answer("60123")
