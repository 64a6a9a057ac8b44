"""The dev phone end to end: the handset reaches our webhook, callbacks reach our status hook."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from twilio.rest import Client

from models import (
    Author,
    Channel,
    Conversation,
    DeliveryEvent,
    Direction,
    Language,
    Message,
    MessageStatus,
    Victim,
    utcnow,
)
from models.devphone import DevPhoneMessage
from services.casework import notifications
from services.messaging import inbound
from services.runtime import Runtime
from services.settings import Settings
from tests.conftest import LiveServer

HANDSET = "+447700900123"
OTHER = "+447700900456"


def eventually[T](probe: Callable[[], T], timeout: float = 5.0) -> T:
    """The first truthy result of `probe`, polled until `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.02)


@pytest.fixture
def quick(client: FlaskClient) -> None:
    """Status callbacks a few milliseconds apart."""
    assert client.put("/devphone/control", json={"callback_interval": 0.02}).status_code == 200


@pytest.fixture
def served(live_server: LiveServer, quick: None) -> LiveServer:
    """The app over real HTTP: the dev phone posts to our webhooks there."""
    return live_server


def stored_inbound(rt: Runtime, sid: str) -> list[Message]:
    with rt.db.session() as session:
        return list(session.scalars(select(Message).where(Message.twilio_sid == sid)))


def test_send_reaches_the_webhook_signed(client: FlaskClient, rt: Runtime, served: object) -> None:
    answer = client.post(
        "/devphone/send", json={"handset": HANDSET, "channel": "sms", "body": "Any news?"}
    )

    assert answer.status_code == 200
    assert answer.json is not None and answer.json["webhook_status"] == 200
    [message] = stored_inbound(rt, answer.json["sid"])
    assert (message.direction, message.body) == (Direction.INBOUND, "Any news?")


def test_whatsapp_with_a_picture(client: FlaskClient, rt: Runtime, served: object) -> None:
    answer = client.post(
        "/devphone/send",
        json={"handset": "07700 900123", "channel": "whatsapp", "body": "", "num_media": 1},
    )

    assert answer.json is not None and answer.json["webhook_status"] == 200
    [message] = stored_inbound(rt, answer.json["sid"])
    assert message.num_media == 1
    with rt.db.session() as session:
        conversation = session.get(Conversation, message.conversation_id)
        assert conversation is not None and conversation.address == f"whatsapp:{HANDSET}"
    media = client.get(
        f"/devphone/2010-04-01/Accounts/AC{'0' * 32}/Messages/{answer.json['sid']}/Media/ME1"
    )
    assert media.status_code == 200 and media.data.startswith(b"\x89PNG")


def test_a_resent_sid_is_accepted_and_stored_once(
    client: FlaskClient, rt: Runtime, served: object
) -> None:
    first = client.post(
        "/devphone/send", json={"handset": HANDSET, "channel": "sms", "body": "Hello"}
    )
    assert first.json is not None
    sid = first.json["sid"]

    again = client.post(
        "/devphone/send", json={"handset": HANDSET, "channel": "sms", "body": "Hello", "sid": sid}
    )

    assert again.json == {"sid": sid, "webhook_status": 200}
    assert len(stored_inbound(rt, sid)) == 1
    with rt.db.session() as session:
        count = select(func.count()).select_from(DevPhoneMessage)
        assert session.scalar(count.where(DevPhoneMessage.sid == sid)) == 1


@pytest.mark.parametrize(
    "payload",
    [
        # A drama number, but a landline one: the dev phone only plays mobiles.
        {"handset": "+441632960123", "channel": "sms", "body": "Hi"},
        {"handset": HANDSET, "channel": "fax", "body": "Hi"},
        {"handset": HANDSET, "channel": "sms", "body": "   "},
        {"handset": HANDSET, "channel": "sms", "body": "a" * 1601},
        {"handset": HANDSET, "channel": "sms", "body": "Hi", "sid": "SM123"},
    ],
)
def test_send_refuses_bad_input(client: FlaskClient, payload: dict[str, object]) -> None:
    answer = client.post("/devphone/send", json=payload)
    assert answer.status_code == 400
    assert answer.json is not None and answer.json["error"]


def outbound(rt: Runtime, to: str, channel: Channel, body: str) -> Message:
    """Send through the gateway and record it as the outbox does, early callbacks included."""
    accepted = rt.twilio.send(to, channel, body)
    with rt.db.session() as session:
        message = Message(
            conversation_id=inbound.conversation_id_for(session, to),
            direction=Direction.OUTBOUND,
            author=Author.BOT,
            body=body,
            twilio_sid=accepted.sid,
            status=MessageStatus.QUEUED,
        )
        session.add(message)
        session.flush()
        inbound.apply_delivery_events(session, accepted.sid, notifications.settle)
    return message


def status_of(rt: Runtime, message_id: int) -> MessageStatus:
    with rt.db.session() as session:
        message = session.get(Message, message_id)
        assert message is not None
        return message.status


def reported(rt: Runtime, sid: str) -> list[str]:
    with rt.db.session() as session:
        events = select(DeliveryEvent.status).where(DeliveryEvent.twilio_sid == sid)
        return list(session.scalars(events.order_by(DeliveryEvent.id)))


def test_status_callbacks_advance_the_message(rt: Runtime, served: object) -> None:
    message = outbound(rt, HANDSET, Channel.SMS, "Your officer will call today.")

    assert eventually(lambda: status_of(rt, message.id) is MessageStatus.DELIVERED)
    assert reported(rt, message.twilio_sid or "") == ["sent", "delivered"]
    with rt.db.session() as session:
        record = session.scalar(
            select(DevPhoneMessage).where(DevPhoneMessage.sid == message.twilio_sid)
        )
        assert record is not None and record.status == "delivered" and record.sent_at is not None


def test_whatsapp_is_read_after_delivery(client: FlaskClient, rt: Runtime, served: object) -> None:
    client.post("/devphone/send", json={"handset": HANDSET, "channel": "whatsapp", "body": "Helo"})
    message = outbound(rt, f"whatsapp:{HANDSET}", Channel.WHATSAPP, "Diolch â chroeso, ŵyr")

    assert eventually(lambda: status_of(rt, message.id) is MessageStatus.READ)
    assert reported(rt, message.twilio_sid or "") == ["sent", "delivered", "read"]


def test_whatsapp_free_text_outside_the_24_hour_window_fails_as_whatsapp_does(
    rt: Runtime, served: object
) -> None:
    message = outbound(rt, f"whatsapp:{HANDSET}", Channel.WHATSAPP, "Diolch â chroeso, ŵyr")

    assert eventually(lambda: status_of(rt, message.id) is MessageStatus.FAILED)
    with rt.db.session() as session:
        assert session.get_one(Message, message.id).error_code == 63016


def test_a_whatsapp_template_shows_its_approved_text_filled_in(rt: Runtime, served: object) -> None:
    template = rt.templates.get("code_update", Language.CY)
    assert template is not None
    variables = template.variables({"case_ref": "CR-1", "summary": "Mae dyn wedi'i arestio."})
    accepted = rt.twilio.send(
        f"whatsapp:{HANDSET}", Channel.WHATSAPP, "", template.content_sid, variables
    )
    with rt.db.session() as session:
        shown = session.scalar(select(DevPhoneMessage).where(DevPhoneMessage.sid == accepted.sid))
        assert shown is not None and shown.content_sid == template.content_sid
        assert shown.body.startswith("Diweddariad am eich achos CR-1: Mae dyn wedi'i arestio.")


def test_callbacks_out_of_order_do_not_undo_delivery(
    client: FlaskClient, rt: Runtime, served: object
) -> None:
    client.put("/devphone/control", json={"callback_reverse": True})
    message = outbound(rt, HANDSET, Channel.SMS, "Your officer will call today.")

    assert eventually(lambda: len(reported(rt, message.twilio_sid or "")) == 2)
    assert reported(rt, message.twilio_sid or "") == ["delivered", "sent"]
    assert status_of(rt, message.id) is MessageStatus.DELIVERED


def test_a_failed_delivery_reports_its_error_code(
    client: FlaskClient, rt: Runtime, served: object
) -> None:
    client.put("/devphone/control", json={"callback_statuses": ["sent", "undelivered"]})
    message = outbound(rt, HANDSET, Channel.SMS, "Your officer will call today.")

    assert eventually(lambda: status_of(rt, message.id) is MessageStatus.UNDELIVERED)
    with rt.db.session() as session:
        stored = session.get(Message, message.id)
        assert stored is not None and stored.error_code == 30003


def test_the_list_works_through_the_library(
    client: FlaskClient, rt: Runtime, settings: Settings, served: object
) -> None:
    since = utcnow() - dt.timedelta(seconds=5)
    mine = [rt.twilio.send(HANDSET, Channel.SMS, f"Update {n}").sid for n in range(3)]
    rt.twilio.send(OTHER, Channel.SMS, "Someone else")
    client.post("/devphone/send", json={"handset": HANDSET, "channel": "sms", "body": "Thanks"})
    twilio = Client(settings.twilio_account_sid, settings.twilio_auth_token)
    twilio.api.base_url = settings.twilio_api_base_url

    listed = twilio.messages.list(to=HANDSET, from_=settings.twilio_sms_from, limit=50)
    paged = twilio.messages.list(to=HANDSET, page_size=2)

    assert [m.sid for m in listed] == mine[::-1]  # Newest first; replies from HANDSET excluded.
    assert [m.sid for m in paged] == mine[::-1]  # Followed across pages of two.
    assert all(m.date_created and m.date_created >= since.replace(microsecond=0) for m in listed)
    found = rt.twilio.find_sent(HANDSET, Channel.SMS, "Update 1", since)
    assert found is not None and found.sid == mine[1]


def test_a_delayed_answer_comes_after_the_message_is_stored(
    client: FlaskClient, rt: Runtime, served: object
) -> None:
    client.put("/devphone/control", json={"delay_seconds": 1.0})
    sending = threading.Thread(target=rt.twilio.send, args=(HANDSET, Channel.SMS, "Slow"))
    sending.start()

    def stored() -> int | None:
        with rt.db.session() as session:
            return session.scalar(select(func.count()).select_from(DevPhoneMessage))

    assert eventually(stored, timeout=0.8) == 1
    assert sending.is_alive()  # Twilio has the message; the client is still waiting.
    sending.join(5)


def test_the_thread_shows_both_directions_in_order(
    client: FlaskClient, rt: Runtime, served: object
) -> None:
    client.post("/devphone/send", json={"handset": HANDSET, "channel": "sms", "body": "Help"})
    rt.twilio.send(HANDSET, Channel.SMS, "We are here")
    rt.twilio.send(f"whatsapp:{HANDSET}", Channel.WHATSAPP, "Other channel")

    thread = client.get("/devphone/thread?handset=+447700900123&channel=sms").json

    assert thread is not None
    assert [(m["direction"], m["body"]) for m in thread] == [
        ("from_handset", "Help"),
        ("to_handset", "We are here"),
    ]
    assert thread[0]["status"] == "received"
    assert set(thread[0]) >= {"sid", "direction", "body", "status", "error_code", "created_at"}


def test_the_page_renders_with_the_demo_victims(client: FlaskClient, rt: Runtime) -> None:
    with rt.db.session() as session:
        session.add(
            Victim(
                name="Bethan Prydderch",
                phone=HANDSET,
                channel=Channel.WHATSAPP,
                language=Language.CY,
                date_of_birth=dt.date(1990, 3, 1),
            )
        )

    page = client.get("/devphone")

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<title>Dev phone</title>" in html and '<form id="handset"' in html
    assert "Bethan Prydderch" in html and 'data-channel="whatsapp"' in html
    with client.get("/devphone/static/devphone/handset.js") as script:
        assert script.status_code == 200


def test_control_round_trip(client: FlaskClient) -> None:
    changed = client.put("/devphone/control", json={"fail_next": 2, "fail_status": 429})
    assert changed.json is not None and changed.json["fail_next"] == 2
    assert client.get("/devphone/control").json == changed.json
    assert client.put("/devphone/control", json={"fail_next": -1}).status_code == 400
    assert client.put("/devphone/control", json={"explode": True}).status_code == 400
    reset = client.delete("/devphone/control")
    assert reset.json is not None and reset.json["fail_next"] == 0


def test_the_list_filters_by_date_sent(rt: Runtime, settings: Settings, served: object) -> None:
    message = outbound(rt, HANDSET, Channel.SMS, "Your officer will call today.")
    assert eventually(lambda: status_of(rt, message.id) is MessageStatus.DELIVERED)
    twilio = Client(settings.twilio_account_sid, settings.twilio_auth_token)
    twilio.api.base_url = settings.twilio_api_base_url
    today = utcnow().date()

    on_the_day = twilio.messages.list(to=HANDSET, date_sent=today)
    since = twilio.messages.list(date_sent_after=utcnow() - dt.timedelta(minutes=1))
    long_ago = twilio.messages.list(date_sent_before=dt.datetime(2001, 1, 1, tzinfo=dt.UTC))

    assert [m.sid for m in on_the_day] == [m.sid for m in since] == [message.twilio_sid]
    assert long_ago == []
