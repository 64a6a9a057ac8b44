"""Every shape Twilio and WhatsApp send is stored and answered, or left unanswered where an
answer would be wrong; end to end through the dev phone, which posts Twilio's signed
webhook form over real HTTP, then processed and sent back as a worker does.

Shapes the assistant answers (text, buttons, lists, ads, a caption) need the real Rasa:
tests/e2e/test_inbound_shapes.py. docs/INBOUND.md lists every shape with its test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from models import (
    Conversation,
    Direction,
    Handoff,
    HandoffPriority,
    InboundShape,
    Language,
    Message,
    MessageStatus,
    OfficerRole,
)
from services.conversations.processing import LOCATION_REASON
from services.language.texts import TEXTS, text
from services.runtime import Runtime
from services.settings import Settings
from tests.conftest import LiveServer
from tests.support.console import signed_in
from tests.support.delivery import deliver
from tests.support.factories import inbound_form, new_case_with_quiet_victim, signed_post
from tests.support.handset import Handset

GWEN = "+447700900211"  # WhatsApp, Welsh
MEGAN = "+447700900212"  # SMS, English
STRANGER = "+447700900666"

LOCATION = {
    "MessageType": "location",
    "Latitude": "51.4816",
    "Longitude": "-3.1791",
    "Address": "Central Square, Cardiff CF10 1EP",
    "Label": "Cardiff Central",
}


@pytest.fixture
def phones(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, live_server: LiveServer
) -> Iterator[LiveServer]:
    """Gwen on WhatsApp in Welsh and Megan by SMS in English, on one case, in quiet hours
    (their welcomes wait, so each handset shows only the answers to what it sent)."""
    assert client.put("/devphone/control", json={"callback_interval": 0.02}).status_code == 200
    new_case_with_quiet_victim(
        client, auth, "CR-SHAPES-1", name="Gwen Huws", phone=GWEN, channel="whatsapp", language="cy"
    )
    new_case_with_quiet_victim(
        client, auth, "CR-SHAPES-2", name="Megan Price", phone=MEGAN, channel="sms", language="en"
    )
    yield live_server
    # The dev phone's status callbacks finish while the server can still take them.
    rt.wait_for_background()


def _inbound(rt: Runtime, sid: str) -> Message:
    with rt.db.session() as session:
        message = session.scalars(select(Message).where(Message.twilio_sid == sid)).one()
        session.expunge(message)
        return message


def _outbound_count(rt: Runtime) -> int:
    with rt.db.session() as session:
        return (
            session.scalar(select(func.count()).where(Message.direction == Direction.OUTBOUND)) or 0
        )


def _send(phone: Handset, body: str = "", **options: Any) -> str:
    sent = phone.send(body, **options)
    assert sent["webhook_status"] == 200, sent
    return str(sent["sid"])


@pytest.mark.parametrize(
    ("number", "channel", "language"),
    [(GWEN, "whatsapp", Language.CY), (MEGAN, "sms", Language.EN)],
)
def test_a_shared_location_gets_999_guidance_and_an_officer_looks(
    rt: Runtime, phones: LiveServer, number: str, channel: str, language: Language
) -> None:
    # Field case (issue 13): a location arrives with Latitude/Longitude, MessageType
    # location and an empty body; it used to reach Rasa as an empty text.
    phone = Handset(phones.url, number, channel)
    sid = _send(phone, fields=LOCATION)
    deliver(rt)

    assert [m["body"] for m in phone.received()] == [TEXTS["location"][language]]
    stored = _inbound(rt, sid)
    assert stored.shape is InboundShape.LOCATION
    assert stored.status is MessageStatus.PROCESSED
    assert stored.details == {k: v for k, v in LOCATION.items() if k != "MessageType"}
    with rt.db.session() as session:
        [handoff] = session.scalars(select(Handoff)).all()
        assert (handoff.priority, handoff.reason) == (HandoffPriority.HIGH, LOCATION_REASON)


@pytest.mark.parametrize(
    ("fields", "num_media", "notice"),
    [
        ({"MessageType": "contacts", "MediaContentType0": "text/vcard"}, 1, "contacts"),
        ({"MessageType": "sticker", "MediaContentType0": "image/webp"}, 1, "sticker"),
        ({"MessageType": "audio", "MediaContentType0": "audio/ogg"}, 1, "voice"),
        ({"MessageType": "image", "MediaContentType0": "image/jpeg"}, 1, "media"),
        ({"MessageType": "document", "MediaContentType0": "application/pdf"}, 1, "media"),
        ({"MessageType": "video", "MediaContentType0": "video/mp4"}, 1, "media"),
        ({"MessageType": "unsupported"}, 0, "unreadable"),
        ({"MessageType": "button", "ButtonPayload": "opaque"}, 0, "unreadable"),
        # A kind WhatsApp may add one day, with nothing we can read in it.
        ({"MessageType": "poll_vote"}, 0, "unreadable"),
    ],
    ids=[
        "contacts",
        "sticker",
        "voice",
        "picture",
        "document",
        "video",
        "unsupported",
        "payload-only button",
        "unknown kind",
    ],
)
def test_what_we_cannot_read_is_answered_plainly_in_welsh(
    rt: Runtime, phones: LiveServer, fields: dict[str, str], num_media: int, notice: str
) -> None:
    phone = Handset(phones.url, GWEN, "whatsapp")
    sid = _send(phone, num_media=num_media, fields=fields)
    deliver(rt)

    assert [m["body"] for m in phone.received()] == [TEXTS[notice][Language.CY]]
    assert "999" in phone.received()[0]["body"]
    assert _inbound(rt, sid).status is MessageStatus.PROCESSED
    with rt.db.session() as session:
        assert session.scalars(select(Handoff)).all() == []  # only a location asks a person


def test_an_empty_sms_is_answered_not_passed_on(rt: Runtime, phones: LiveServer) -> None:
    phone = Handset(phones.url, MEGAN)
    # An empty SMS body (the handset refuses to send one without fields: "NumSegments"
    # is a field Twilio sends with every SMS).
    sid = _send(phone, "", fields={"NumSegments": "1"})
    deliver(rt)
    assert [m["body"] for m in phone.received()] == [TEXTS["unreadable"][Language.EN]]
    assert _inbound(rt, sid).shape is InboundShape.UNREADABLE


def test_a_reaction_is_stored_and_left_unanswered(rt: Runtime, phones: LiveServer) -> None:
    phone = Handset(phones.url, GWEN, "whatsapp")
    sid = _send(phone, "❤️", fields={"MessageType": "reaction"})
    deliver(rt)

    assert phone.received() == []
    assert _outbound_count(rt) == 0
    stored = _inbound(rt, sid)
    assert (stored.shape, stored.body, stored.status) == (
        InboundShape.REACTION,
        "❤️",
        MessageStatus.PROCESSED,
    )


@pytest.mark.parametrize("sender", ["PARCELCO", "Vodafone UK", "60123"])
def test_sender_ids_and_short_codes_are_stored_and_never_answered(
    client: FlaskClient, rt: Runtime, phones: LiveServer, sender: str
) -> None:
    # Field case (issue 13): a text from a sender ID such as PARCELCO got 400, which
    # Twilio logs as an error for every one. It is stored, 2xx, and gets no reply: a
    # sender ID cannot take one, and a machine that answers could start a loop. Not even
    # a keyword or words of danger change that: no person can be writing from it.
    machine = Handset(phones.url, sender)
    bodies = [
        "Your parcel is waiting at the depot. Reply STOP to opt out",
        "STOP",
        "HELP",
        "someone is going to kill me",
    ]
    sids = [_send(machine, body) for body in bodies]
    deliver(rt)

    assert [_inbound(rt, sid).status for sid in sids] == [MessageStatus.PROCESSED] * 4
    assert _outbound_count(rt) == 0
    assert machine.received() == []
    with rt.db.session() as session:
        conversation = session.scalars(
            select(Conversation).where(Conversation.address == sender)
        ).one()
        assert conversation.opted_out_at is None
        assert session.scalars(select(Handoff)).all() == []


def test_a_number_not_in_the_phone_metadata_yet_is_still_a_person(
    client: FlaskClient, settings: Settings, rt: Runtime, phones: LiveServer
) -> None:
    # A valid E.164 number in a range libphonenumber does not know yet used to get 400: a
    # message lost. It is a phone, so it is stored and answered like any unknown number.
    unknown_range = "+4477009001234"
    form = inbound_form(unknown_range, "is anyone there")
    assert signed_post(client, settings, "/twilio/messages", form).status_code == 200
    deliver(rt)
    with rt.db.session() as session:
        [reply] = session.scalars(
            select(Message.body).where(Message.direction == Direction.OUTBOUND)
        ).all()
    assert reply == text("unregistered", None)


def test_a_stranger_sharing_a_location_is_told_once_and_a_person_looks(
    rt: Runtime, phones: LiveServer
) -> None:
    stranger = Handset(phones.url, STRANGER, "whatsapp")
    _send(stranger, fields=LOCATION)
    _send(stranger, fields=LOCATION)
    deliver(rt)
    # An unregistered number learns nothing, and is told at most once a day.
    assert [m["body"] for m in stranger.received()] == [text("unregistered", None)]
    with rt.db.session() as session:
        [handoff] = session.scalars(select(Handoff)).all()
        assert handoff.victim_id is None and handoff.priority is HandoffPriority.HIGH


def test_a_location_from_an_opted_out_phone_gets_no_reply_but_a_person_looks(
    rt: Runtime, phones: LiveServer
) -> None:
    phone = Handset(phones.url, MEGAN)
    _send(phone, "STOP")
    deliver(rt)
    assert [m["body"] for m in phone.received()] == [TEXTS["opted_out"][Language.EN]]
    _send(phone, fields=LOCATION)
    deliver(rt)
    assert len(phone.received()) == 1  # carriers require silence after STOP
    with rt.db.session() as session:
        handoffs = session.scalars(select(Handoff)).all()
        assert [h.reason for h in handoffs][-1] == LOCATION_REASON


def test_the_officer_sees_where_the_location_was_and_what_else_came(
    client: FlaskClient, rt: Runtime, phones: LiveServer
) -> None:
    phone = Handset(phones.url, GWEN, "whatsapp")
    _send(phone, fields=LOCATION)
    _send(phone, num_media=1, fields={"MessageType": "audio", "MediaContentType0": "audio/ogg"})
    deliver(rt)
    signed_in(client, rt, "sergeant", OfficerRole.SUPERVISOR)
    with rt.db.session() as session:
        conversation_id = session.scalars(
            select(Conversation.id).where(Conversation.address == f"whatsapp:{GWEN}")
        ).one()
    page = client.get(f"/console/conversations/{conversation_id}").get_data(as_text=True)
    assert (
        "Shared a location: 51.4816, -3.1791 (Cardiff Central, Central Square, Cardiff CF10 1EP)"
        in page
    )
    assert "Sent a voice message, which we cannot play here" in page
