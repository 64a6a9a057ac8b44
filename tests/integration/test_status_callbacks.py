"""Every status callback Twilio documents is recorded and moves a message only forward; one
it adds later is recorded and moves nothing. Sent for real through the dev phone, whose
signed callbacks reach POST /twilio/status over HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from models import (
    DeliveryEvent,
    Handoff,
    HandoffPriority,
    Language,
    Message,
    MessageStatus,
    Notification,
    NotificationStatus,
    SentAs,
)
from models.devphone import DevPhoneMessage
from services.casework import notifications
from services.language.texts import text
from services.runtime import Runtime
from services.settings import Settings
from tests.conftest import LiveServer
from tests.support.delivery import deliver
from tests.support.factories import NO_QUIET_HOURS, new_case, new_victim, signed_post
from tests.support.statements import recorded, verbs
from tests.support.wakeups import listening

CASE = "CR-2026-0300"
PHONE = "+447700900301"


@pytest.fixture
def served(client: FlaskClient, rt: Runtime, live_server: LiveServer) -> Iterator[LiveServer]:
    assert client.put("/devphone/control", json={"callback_interval": 0.02}).status_code == 200
    yield live_server
    rt.wait_for_background()  # the last callbacks land while the server still takes them


def _eventually[T](probe: Callable[[], T], timeout: float = 10.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


def _welcome(client: FlaskClient, auth: dict[str, str], rt: Runtime, **victim: Any) -> Message:
    """Register a victim (no quiet hours), send their welcome, and return its message."""
    new_case(client, auth, CASE)
    new_victim(client, auth, CASE, phone=PHONE, quiet_hours=NO_QUIET_HOURS, **victim)
    deliver(rt)
    with rt.db.session() as session:
        message = session.scalars(select(Message).where(Message.twilio_sid.is_not(None))).one()
        session.expunge(message)
        return message


def _events(rt: Runtime, sid: str) -> list[tuple[str, bool]]:
    with rt.db.session() as session:
        rows = session.scalars(
            select(DeliveryEvent).where(DeliveryEvent.twilio_sid == sid).order_by(DeliveryEvent.id)
        )
        return [(e.status, e.applied) for e in rows]


def _status(rt: Runtime, message_id: int) -> MessageStatus:
    with rt.db.session() as session:
        return session.get_one(Message, message_id).status


# What one callback does to a message Twilio has just taken (ACCEPTED, rank 2).
ONE_CALLBACK = [
    ("accepted", MessageStatus.ACCEPTED),
    ("scheduled", MessageStatus.ACCEPTED),  # the same step: Twilio has it, not yet sent
    ("queued", MessageStatus.ACCEPTED),
    ("sending", MessageStatus.SENDING),
    ("sent", MessageStatus.SENT),
    ("delivered", MessageStatus.DELIVERED),
    ("partially_delivered", MessageStatus.PARTIALLY_DELIVERED),
    ("undelivered", MessageStatus.UNDELIVERED),
    ("failed", MessageStatus.FAILED),
    ("canceled", MessageStatus.CANCELED),
    ("read", MessageStatus.READ),
    ("receiving", MessageStatus.ACCEPTED),  # describes messages that reach Twilio
    ("received", MessageStatus.ACCEPTED),
]


@pytest.mark.parametrize(("reported", "moved_to"), ONE_CALLBACK, ids=[s for s, _ in ONE_CALLBACK])
def test_every_documented_status_is_recorded_and_applied_by_its_rule(
    client: FlaskClient,
    auth: dict[str, str],
    rt: Runtime,
    served: LiveServer,
    reported: str,
    moved_to: MessageStatus,
) -> None:
    # Field case (issue 13): canceled, partially_delivered, scheduled, receiving and received
    # were answered 400, which Twilio retries and alerts on.
    client.put("/devphone/control", json={"callback_statuses": [reported]})
    message = _welcome(client, auth, rt)
    assert message.twilio_sid is not None
    assert _eventually(lambda: _events(rt, str(message.twilio_sid))) == [(reported, True)]
    assert _status(rt, message.id) is moved_to


def test_a_status_twilio_adds_later_is_kept_and_moves_nothing(
    client: FlaskClient, auth: dict[str, str], settings: Settings, rt: Runtime, served: LiveServer
) -> None:
    client.put("/devphone/control", json={"callback_statuses": ["sent"]})
    message = _welcome(client, auth, rt)
    sid = str(message.twilio_sid)
    assert _eventually(lambda: _status(rt, message.id) is MessageStatus.SENT)
    future = "delivered_via_satellite_relay_with_receipt_and_more"  # 51 characters
    for status in ("queued_for_rcs", future):
        form = {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC" + "de" * 16}
        assert signed_post(client, settings, "/twilio/status", form).status_code == 204
    assert _events(rt, sid) == [("sent", True), ("queued_for_rcs", True), (future[:40], True)]
    assert _status(rt, message.id) is MessageStatus.SENT


@pytest.mark.both_databases  # each database wakes its workers its own way
def test_news_going_again_by_sms_wakes_the_workers(
    client: FlaskClient,
    auth: dict[str, str],
    settings: Settings,
    rt: Runtime,
    served: LiveServer,
) -> None:
    """The SMS copy a status callback writes is work no drain may hold: the workers are
    woken for it as it commits (NOTIFY on PostgreSQL, the datagram on SQLite), not left to
    their poll, or to a look that happened to follow some other conversation's drain."""
    client.put("/devphone/control", json={"callback_statuses": ["sent"]})
    message = _welcome(client, auth, rt, channel="whatsapp")
    sid = str(message.twilio_sid)
    assert _eventually(lambda: _events(rt, sid)) == [("sent", True)]
    rt.wait_for_background()
    form = {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "63016"}
    with listening(settings.database_url, settings.worker_wake_addr) as worker:
        answer = signed_post(
            client, settings, "/twilio/status", {**form, "AccountSid": "AC" + "de" * 16}
        )
        assert answer.status_code == 204
        assert worker.outcome() == "woken"
    with rt.db.session() as session:
        assert session.scalars(select(Notification)).one().fell_back_at is not None


@pytest.mark.parametrize("outcome", ["partially_delivered", "canceled"])
def test_whatsapp_news_not_wholly_delivered_goes_again_by_sms(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, served: LiveServer, outcome: str
) -> None:
    # The victim may not have it all: a second copy by SMS is a smaller harm than a gap.
    client.put("/devphone/control", json={"callback_statuses": ["sent", outcome]})
    _welcome(client, auth, rt, channel="whatsapp")
    with rt.db.session() as session:
        [first] = session.scalars(select(Message)).all()
    assert _eventually(lambda: _status(rt, first.id) is MessageStatus(outcome))
    client.delete("/devphone/control")
    client.put("/devphone/control", json={"callback_interval": 0.02})
    deliver(rt)
    with rt.db.session() as session:
        welcome = session.scalars(select(Notification)).one()
        assert welcome.fell_back_at is not None
        assert welcome.message is not None and welcome.message.sent_as is SentAs.SMS
        sms = session.scalars(select(DevPhoneMessage).where(DevPhoneMessage.handset == PHONE)).one()
    assert sms.body == text("welcome", Language.EN, case_ref=CASE)


def test_sms_news_canceled_at_twilio_finds_an_officer(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, served: LiveServer
) -> None:
    client.put("/devphone/control", json={"callback_statuses": ["canceled"]})
    message = _welcome(client, auth, rt)
    assert _eventually(lambda: _status(rt, message.id) is MessageStatus.CANCELED)
    with rt.db.session() as session:
        welcome = session.scalars(select(Notification)).one()
        assert welcome.status is NotificationStatus.FAILED
        [handoff] = session.scalars(select(Handoff)).all()
        assert handoff.priority is HandoffPriority.HIGH
        assert handoff.reason == notifications.FAILED_REASON


@pytest.mark.both_databases
def test_a_callback_finds_its_message_and_the_callbacks_waiting_for_it_in_one_query(
    client: FlaskClient, auth: dict[str, str], settings: Settings, rt: Runtime, served: LiveServer
) -> None:
    """Two callbacks come for every message we send. Each is kept, then its message and the
    callbacks waiting for it (one that came before the send recorded the SID, say) are read
    together, and all of them applied (in the order they came: the next test)."""
    client.put("/devphone/control", json={"callback_statuses": []})
    message = _welcome(client, auth, rt)
    sid = str(message.twilio_sid)
    with rt.db.session() as session:
        # Came while the send was committing, and left waiting (not applied yet).
        session.add(DeliveryEvent(twilio_sid=sid, status="sent", applied=False))
    form = {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": "AC" + "de" * 16}
    with recorded(rt.db.engine) as statements:
        assert signed_post(client, settings, "/twilio/status", form).status_code == 204
    # The lock on the SID (PostgreSQL), the callback kept, the message with the callbacks
    # waiting for it, those marked applied, the message moved.
    locks = 1 if rt.db.engine.dialect.name == "postgresql" else 0
    assert verbs(statements) == ["SELECT"] * locks + ["INSERT", "SELECT", "UPDATE", "UPDATE"]
    assert _events(rt, sid) == [("sent", True), ("delivered", True)]
    assert _status(rt, message.id) is MessageStatus.DELIVERED

    # A callback for a SID no send has recorded yet is kept, waiting, and moves nothing.
    form["MessageSid"] = "SM" + "0f" * 16
    with recorded(rt.db.engine) as statements:
        assert signed_post(client, settings, "/twilio/status", form).status_code == 204
    assert verbs(statements) == ["SELECT"] * locks + ["INSERT", "SELECT"]
    assert _events(rt, form["MessageSid"]) == [("delivered", False)]


@pytest.mark.both_databases
def test_callbacks_left_waiting_are_applied_in_the_order_they_came(
    client: FlaskClient, auth: dict[str, str], settings: Settings, rt: Runtime, served: LiveServer
) -> None:
    """Of two final statuses, the first that came stands: "undelivered" waiting, then
    "delivered" arriving, leaves the message undelivered, and an officer is asked to tell
    the victim (taken the other way round, it would read as delivered and nobody would)."""
    client.put("/devphone/control", json={"callback_statuses": []})
    message = _welcome(client, auth, rt)
    sid = str(message.twilio_sid)
    with rt.db.session() as session:
        session.add(DeliveryEvent(twilio_sid=sid, status="sent", applied=False))
        session.add(
            DeliveryEvent(twilio_sid=sid, status="undelivered", error_code=30003, applied=False)
        )
    form = {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": "AC" + "de" * 16}
    assert signed_post(client, settings, "/twilio/status", form).status_code == 204
    assert _events(rt, sid) == [("sent", True), ("undelivered", True), ("delivered", True)]
    with rt.db.session() as session:
        moved = session.get_one(Message, message.id)
        assert (moved.status, moved.error_code) == (MessageStatus.UNDELIVERED, 30003)
        assert session.scalars(select(Notification)).one().status is NotificationStatus.FAILED
        [handoff] = session.scalars(select(Handoff)).all()
        assert handoff.reason == notifications.FAILED_REASON
