"""POST /twilio/messages: signature, storing before 2xx, de-duplication, bad input."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from models import Conversation, Message
from services.runtime import Runtime
from services.settings import Settings
from tests.support.factories import inbound_form, message_sid, signed_post

# Both databases: INSERT ... ON CONFLICT DO NOTHING.
pytestmark = pytest.mark.both_databases

SENDER = "+447700900123"


def _count(rt: Runtime) -> int:
    with rt.db.session() as session:
        return session.scalar(select(func.count()).select_from(Message)) or 0


def test_missing_or_wrong_signature_is_403_and_stores_nothing(
    client: FlaskClient, rt: Runtime
) -> None:
    form = inbound_form(SENDER, "hello")
    assert client.post("/twilio/messages", data=form).status_code == 403
    wrong = {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}
    assert client.post("/twilio/messages", data=form, headers=wrong).status_code == 403
    assert _count(rt) == 0


def test_signature_over_another_url_is_refused(
    client: FlaskClient, settings: Settings, rt: Runtime
) -> None:
    from twilio.request_validator import RequestValidator

    form = inbound_form(SENDER, "hello")
    signature = RequestValidator(settings.twilio_auth_token).compute_signature(
        "https://elsewhere.example/twilio/messages", form
    )
    response = client.post("/twilio/messages", data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert _count(rt) == 0


def test_message_is_stored_before_the_answer(
    client: FlaskClient, settings: Settings, rt: Runtime
) -> None:
    greeting = "Helô, ŵyr fach — diolch! 👋🏽 "
    body = greeting + "x" * (1600 - len(greeting))
    assert len(body) == 1600
    response = signed_post(client, settings, "/twilio/messages", inbound_form(SENDER, body))
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    with rt.db.session() as session:
        message = session.scalars(select(Message)).one()
        assert message.body == body
        assert message.conversation.address == SENDER


def test_whatsapp_sender_gets_its_own_conversation(
    client: FlaskClient, settings: Settings, rt: Runtime
) -> None:
    signed_post(client, settings, "/twilio/messages", inbound_form(SENDER, "sms"))
    signed_post(client, settings, "/twilio/messages", inbound_form(f"whatsapp:{SENDER}", "wa"))
    with rt.db.session() as session:
        addresses = set(session.scalars(select(Conversation.address)))
    assert addresses == {SENDER, f"whatsapp:{SENDER}"}


def test_retried_delivery_is_answered_but_stored_once(
    client: FlaskClient, settings: Settings, rt: Runtime
) -> None:
    form = inbound_form(SENDER, "hello", sid=message_sid())
    for _ in range(3):
        assert signed_post(client, settings, "/twilio/messages", form).status_code == 200
    assert _count(rt) == 1


def test_malformed_webhook_is_400_and_stores_nothing(
    client: FlaskClient, settings: Settings, rt: Runtime
) -> None:
    no_sid = inbound_form(SENDER, "hello")
    no_sid.pop("MessageSid")
    bad_from = inbound_form("not-a-number", "hello")
    bad_media = inbound_form(SENDER, "hello", NumMedia="lots")
    for form in (no_sid, bad_from, bad_media):
        assert signed_post(client, settings, "/twilio/messages", form).status_code == 400
    assert _count(rt) == 0


def test_status_callback_needs_a_signature(client: FlaskClient, settings: Settings) -> None:
    form = {"MessageSid": message_sid(), "MessageStatus": "delivered"}
    assert client.post("/twilio/status", data=form).status_code == 403
    assert signed_post(client, settings, "/twilio/status", form).status_code == 204
    # A form Twilio would never send is refused, naming what is missing; a status it may
    # add one day is not (tests/integration/test_status_callbacks.py).
    for missing in ("MessageSid", "MessageStatus"):
        bad = {k: v for k, v in form.items() if k != missing}
        answer = signed_post(client, settings, "/twilio/status", bad)
        assert answer.status_code == 400 and missing in answer.get_data(as_text=True)
