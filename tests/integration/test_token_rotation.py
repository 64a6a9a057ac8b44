"""Rotating the Twilio Auth Token: while TWILIO_AUTH_TOKEN_SECONDARY is set, webhooks signed
with it are taken, and REST calls that Twilio refuses with the old token go with the new
one. The steps are in README.md, "Rotating the Twilio Auth Token"."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from models import DeliveryEvent, Direction, Message, MessageStatus
from services.language.texts import text
from services.runtime import Runtime
from services.settings import Settings
from tests.conftest import LiveServer
from tests.support.delivery import deliver
from tests.support.factories import inbound_form, message_sid
from tests.support.handset import Handset

SECONDARY = "secondary-auth-token-for-tests-only"
STRANGER = "+447700900777"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, twilio_auth_token_secondary=SECONDARY)


def _post(
    client: FlaskClient, settings: Settings, path: str, form: dict[str, str], token: str
) -> TestResponse:
    signature = RequestValidator(token).compute_signature(settings.public_base_url + path, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


def _stored(rt: Runtime) -> int:
    with rt.db.session() as session:
        return session.scalar(select(func.count()).select_from(Message)) or 0


def test_webhooks_signed_with_either_token_are_taken(
    client: FlaskClient, settings: Settings, rt: Runtime
) -> None:
    # Field case (issue 13): during a rotation Twilio signed with the secondary token, and
    # every signed webhook in that window got 403.
    for token in (settings.twilio_auth_token, SECONDARY):
        form = inbound_form(STRANGER, "hello")
        assert _post(client, settings, "/twilio/messages", form, token).status_code == 200
        status = {"MessageSid": message_sid(), "MessageStatus": "delivered"}
        assert _post(client, settings, "/twilio/status", status, token).status_code == 204
    assert _stored(rt) == 2
    forged = inbound_form(STRANGER, "hello")
    assert (
        _post(client, settings, "/twilio/messages", forged, "some-other-token").status_code == 403
    )
    assert _stored(rt) == 2


def test_without_a_secondary_only_the_primary_is_taken(
    client: FlaskClient, settings: Settings, app: object, rt: Runtime
) -> None:
    rt.settings = dataclasses.replace(settings, twilio_auth_token_secondary=None)
    form = inbound_form(STRANGER, "hello")
    assert _post(client, settings, "/twilio/messages", form, SECONDARY).status_code == 403
    assert _stored(rt) == 0


@pytest.fixture
def promoted(client: FlaskClient, rt: Runtime, live_server: LiveServer) -> Iterator[LiveServer]:
    """The dev phone as Twilio is once the secondary token has been promoted: it signs
    with it, and its REST API takes no other."""
    answer = client.put("/devphone/control", json={"promoted": True, "callback_interval": 0.02})
    assert answer.status_code == 200
    yield live_server
    rt.wait_for_background()


def test_mid_rotation_a_message_in_and_its_answer_out_both_work(
    rt: Runtime, settings: Settings, promoted: LiveServer
) -> None:
    # Twilio now signs with the new token and refuses the old one (still our primary until
    # the operator changes TWILIO_AUTH_TOKEN): nothing is lost in between.
    stranger = Handset(promoted.url, STRANGER)
    assert stranger.send("hello, is this the police?")["webhook_status"] == 200
    deliver(rt)

    assert [m["body"] for m in stranger.received()] == [text("unregistered", None)]
    with rt.db.session() as session:
        reply = session.scalars(
            select(Message).where(Message.direction == Direction.OUTBOUND)
        ).one()
        # Twilio refused the old token (401); the same request went with the new one.
        assert reply.twilio_sid and reply.status is not MessageStatus.FAILED
        sid = reply.twilio_sid
    rt.wait_for_background()
    with rt.db.session() as session:
        # The dev phone's status callbacks, signed with the new token, were taken too.
        statuses = session.scalars(
            select(DeliveryEvent.status).where(DeliveryEvent.twilio_sid == sid)
        ).all()
        assert list(statuses) == ["sent", "delivered"]
        assert session.get_one(Message, reply.id).status is MessageStatus.DELIVERED
