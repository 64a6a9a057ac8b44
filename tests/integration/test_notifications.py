"""Notifications: planned by the API, handed to the outbox once, in the victim's language."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from models import (
    Author,
    Conversation,
    Direction,
    Language,
    Message,
    MessageStatus,
    Notification,
    NotificationStatus,
    utcnow,
)
from services.casework import notifications
from services.conversations import processing
from services.language.texts import text
from services.messaging import inbound, leases
from services.runtime import Runtime
from services.victims_code import deadlines
from tests.conftest import LiveServer
from tests.support.factories import (
    NO_QUIET_HOURS,
    new_case,
    new_victim,
    quiet_hours_covering_now,
)
from tests.support.handset import Handset
from tests.support.statements import recorded, verbs

# Both databases: handed over once: conditional UPDATEs.
pytestmark = pytest.mark.both_databases

KEYS = {"id", "victim_id", "event_id", "kind", "due_by", "sent_at", "status", "within_code"}
ARRESTED = {
    "type": "suspect_arrested",
    # A Friday: the standard limit runs over a weekend.
    "occurred_at": "2026-11-27T10:15:00Z",
    "summary": "A man has been arrested and is being questioned.",
}
OCCURRED = dt.datetime(2026, 11, 27, 10, 15, tzinfo=dt.UTC)


def _iso(value: dt.datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _post_event(client: FlaskClient, auth: dict[str, str], case_ref: str, **event: Any) -> Any:
    response = client.post(f"/api/cases/{case_ref}/events", json=event, headers=auth)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _outbound(rt: Runtime) -> list[Message]:
    with rt.db.session() as session:
        return list(
            session.scalars(
                select(Message).where(Message.direction == Direction.OUTBOUND).order_by(Message.id)
            )
        )


def _notification(rt: Runtime, notification_id: int) -> Notification:
    with rt.db.session() as session:
        return session.get_one(Notification, notification_id)


def test_code_event_plans_one_notification_per_victim_with_its_limit(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    case_ref = new_case(client, auth)
    standard = new_victim(client, auth, case_ref)
    enhanced = new_victim(
        client,
        auth,
        case_ref,
        name="Owain Bevan",
        phone="+447700900124",
        date_of_birth="1960-01-01",
        enhanced_rights=True,
    )
    body = _post_event(client, auth, case_ref, **ARRESTED)
    planned = {n["victim_id"]: n for n in body["notifications"]}
    assert set(planned) == {standard, enhanced}
    for victim_id, is_enhanced in ((standard, False), (enhanced, True)):
        n = planned[victim_id]
        assert set(n) == KEYS
        assert n["event_id"] == body["event_id"]
        assert n["kind"] == "code_update"
        assert n["status"] == "pending"
        assert n["sent_at"] is None and n["within_code"] is None
        assert n["due_by"] == _iso(deadlines.due_by(OCCURRED, is_enhanced))
    # Friday's event: enhanced by the end of Monday, standard by the end of next Friday.
    assert planned[enhanced]["due_by"] == "2026-12-01T00:00:00Z"
    assert planned[standard]["due_by"] == "2026-12-05T00:00:00Z"


def test_events_the_code_does_not_cover_plan_nothing(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    case_ref = new_case(client, auth)
    new_victim(client, auth, case_ref)
    for event_type in ("general_update", "officer_assigned", "court_hearing_scheduled"):
        body = _post_event(client, auth, case_ref, **{**ARRESTED, "type": event_type})
        assert body["notifications"] == []


def test_registration_plans_a_welcome_and_get_lists_everything(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    case_ref = new_case(client, auth)
    victim_id = new_victim(client, auth, case_ref)
    listed = client.get(f"/api/cases/{case_ref}/notifications", headers=auth)
    assert listed.status_code == 200
    [welcome] = listed.get_json()
    assert welcome == {
        "id": welcome["id"],
        "victim_id": victim_id,
        "event_id": None,
        "kind": "welcome",
        "due_by": None,
        "sent_at": None,
        "status": "pending",
        "within_code": None,
    }
    event = _post_event(client, auth, case_ref, **ARRESTED)
    listed = client.get(f"/api/cases/{case_ref}/notifications", headers=auth).get_json()
    assert [n["kind"] for n in listed] == ["welcome", "code_update"]
    assert listed[1] == event["notifications"][0]
    assert client.get("/api/cases/NOPE/notifications", headers=auth).status_code == 404
    assert client.get(f"/api/cases/{case_ref}/notifications").status_code == 401


def test_due_notifications_go_to_the_outbox_as_bulk_in_the_victims_language(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    case_ref = new_case(client, auth)
    new_victim(client, auth, case_ref, language="cy", quiet_hours=NO_QUIET_HOURS)
    summary_cy = "Mae dyn wedi'i arestio ac mae'n cael ei holi."
    _post_event(client, auth, case_ref, **ARRESTED, summary_cy=summary_cy)
    assert notifications.hand_over_due(rt.db) == 2
    welcome, update = _outbound(rt)
    assert welcome.body == text("welcome", Language.CY, case_ref=case_ref)
    assert update.body == text("code_update", Language.CY, case_ref=case_ref, summary=summary_cy)
    for message in (welcome, update):
        assert message.author is Author.SYSTEM
        assert message.priority == notifications.BULK_PRIORITY
        assert message.status is MessageStatus.PENDING
    with rt.db.session() as session:
        queued = session.scalars(select(Notification).order_by(Notification.id)).all()
        assert [n.status for n in queued] == [NotificationStatus.QUEUED] * 2
        assert [n.message_id for n in queued] == [welcome.id, update.id]
        conversation = session.get_one(Conversation, welcome.conversation_id)
        assert conversation.address == "+447700900123"


def test_welsh_victim_without_a_welsh_summary_gets_the_summary_as_given(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    case_ref = new_case(client, auth)
    new_victim(client, auth, case_ref, language="cy", quiet_hours=NO_QUIET_HOURS)
    _post_event(client, auth, case_ref, **ARRESTED)
    notifications.hand_over_due(rt.db)
    assert _outbound(rt)[1].body == text(
        "code_update", Language.CY, case_ref=case_ref, summary=ARRESTED["summary"]
    )


def test_safe_contact_says_only_that_there_is_news(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    case_ref = new_case(client, auth)
    new_victim(client, auth, case_ref, safe_contact=True, quiet_hours=NO_QUIET_HOURS)
    _post_event(client, auth, case_ref, **ARRESTED)
    notifications.hand_over_due(rt.db)
    welcome, update = _outbound(rt)
    assert welcome.body == text("welcome_safe", Language.EN)
    assert update.body == text("code_update_safe", Language.EN)
    for message in (welcome, update):
        assert case_ref not in message.body
        assert "arrest" not in message.body.lower()
    assert "STOP" in welcome.body and "999" in welcome.body


def test_welcome_says_what_how_to_ask_how_to_stop_and_999() -> None:
    for language, stop in ((Language.EN, "STOP"), (Language.CY, "STOPIO")):
        for key in ("welcome", "welcome_safe"):
            body = text(key, language, case_ref="CR-9")
            assert "999" in body and stop in body
        assert "CR-9" in text("welcome", language, case_ref="CR-9")


def test_opted_out_victim_gets_nothing_and_the_notification_says_why(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    case_ref = new_case(client, auth)
    new_victim(client, auth, case_ref, quiet_hours=NO_QUIET_HOURS)
    with rt.db.session() as session:
        conversation_id = inbound.conversation_id_for(session, "+447700900123")
        session.get_one(Conversation, conversation_id).opted_out_at = utcnow()
    body = _post_event(client, auth, case_ref, **ARRESTED)
    notifications.hand_over_due(rt.db)
    assert _outbound(rt) == []
    listed = client.get(f"/api/cases/{case_ref}/notifications", headers=auth).get_json()
    assert [n["status"] for n in listed] == ["suppressed", "suppressed"]
    assert listed[1]["sent_at"] is None and listed[1]["within_code"] is None
    update = _notification(rt, body["notifications"][0]["id"])
    assert update.status_reason == notifications.OPTED_OUT
    assert update.message_id is None


def test_opt_out_after_hand_over_still_stops_it_and_says_why(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    case_ref = new_case(client, auth)
    new_victim(client, auth, case_ref, quiet_hours=NO_QUIET_HOURS)
    assert notifications.hand_over_due(rt.db) == 1
    [welcome] = _outbound(rt)
    with rt.db.session() as session:
        session.get_one(Conversation, welcome.conversation_id).opted_out_at = utcnow()
    processing.drain(rt, welcome.conversation_id, leases.new_owner())
    [listed] = client.get(f"/api/cases/{case_ref}/notifications", headers=auth).get_json()
    assert listed["status"] == "suppressed" and listed["sent_at"] is None
    with rt.db.session() as session:
        assert session.scalar(select(Notification.status_reason)) == (
            "not sent: the recipient has opted out"
        )
        assert session.get_one(Message, welcome.id).status is MessageStatus.SUPPRESSED


def test_quiet_hours_hold_a_notification_unless_the_code_limit_would_pass(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    case_ref = new_case(client, auth)
    new_victim(client, auth, case_ref, quiet_hours=quiet_hours_covering_now(), enhanced_rights=True)
    # An event so long ago that its limit has passed: waiting for the quiet hours to end
    # would only make it later, so it goes now.
    long_ago = "2020-01-06T09:00:00Z"
    late = _post_event(client, auth, case_ref, **{**ARRESTED, "occurred_at": long_ago})
    fresh = _post_event(client, auth, case_ref, **{**ARRESTED, "occurred_at": _iso(utcnow())})
    assert notifications.hand_over_due(rt.db) == 1
    [message] = _outbound(rt)
    assert _notification(rt, late["notifications"][0]["id"]).message_id == message.id
    held = _notification(rt, fresh["notifications"][0]["id"])
    assert held.status is NotificationStatus.PENDING and held.send_at > utcnow()
    with rt.db.session() as session:
        welcome = session.scalar(select(Notification).where(Notification.event_id.is_(None)))
        assert welcome is not None and welcome.status is NotificationStatus.PENDING


def test_a_notification_is_handed_over_exactly_once(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    case_ref = new_case(client, auth)
    for i in range(5):
        new_victim(
            client,
            auth,
            case_ref,
            name=f"Victim {i}",
            phone=f"+4477009001{i:02d}",
            quiet_hours=NO_QUIET_HOURS,
        )
    _post_event(client, auth, case_ref, **ARRESTED)
    with rt.db.session() as session:
        first = notifications.due(session)[0]
    with rt.db.session() as session:
        assert notifications.hand_over(session, first) is True
    with rt.db.session() as session:
        assert notifications.hand_over(session, first) is False

    # Several workers at once, each seeing the same due list: each one is handed over once.
    barrier = threading.Barrier(4, timeout=20)
    handed: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            handed.append(notifications.hand_over_due(rt.db))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sum(handed) == 9  # 5 welcomes and 5 updates, less the one handed over above
    outbound = _outbound(rt)
    assert len(outbound) == 10
    with rt.db.session() as session:
        statuses = session.scalars(select(Notification.status)).all()
        message_ids = session.scalars(select(Notification.message_id)).all()
    assert set(statuses) == {NotificationStatus.QUEUED}
    assert sorted(message_ids) == sorted(m.id for m in outbound)  # type: ignore[type-var]


def test_sent_through_the_dev_phone_within_the_code(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, live_server: LiveServer
) -> None:
    case_ref = new_case(client, auth)
    new_victim(client, auth, case_ref, quiet_hours=NO_QUIET_HOURS, enhanced_rights=True)
    _post_event(client, auth, case_ref, **{**ARRESTED, "occurred_at": _iso(utcnow())})
    assert notifications.hand_over_due(rt.db) == 2
    processing.drain(rt, _outbound(rt)[0].conversation_id, leases.new_owner())
    bodies = [m["body"] for m in Handset(live_server.url, "+447700900123").received()]
    assert bodies == [
        text("welcome", Language.EN, case_ref=case_ref),
        text("code_update", Language.EN, case_ref=case_ref, summary=ARRESTED["summary"]),
    ]
    listed = client.get(f"/api/cases/{case_ref}/notifications", headers=auth).get_json()
    assert [n["status"] for n in listed] == ["sent", "sent"]
    assert all(n["sent_at"] is not None for n in listed)
    assert [n["within_code"] for n in listed] == [None, True]  # a welcome has no limit


def _settled_as(rt: Runtime, message_id: int, status: MessageStatus) -> list[str]:
    """The statements notifications.settle sends for the message, once it is in `status`."""
    with rt.db.session() as session:
        message = session.get_one(Message, message_id)
        message.status = status
        session.flush()
        with recorded(rt.db.engine) as statements:
            notifications.settle(session, message)
    return statements


def test_a_sent_notification_is_settled_by_one_update_and_a_loaded_one_follows_it(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    """The outbox settles a notification at every send: one UPDATE, not a load and a flush.
    A notification the session holds already must show its new status all the same."""
    case_ref = new_case(client, auth)
    new_victim(client, auth, case_ref, quiet_hours=NO_QUIET_HOURS)
    assert notifications.hand_over_due(rt.db) == 1
    [welcome] = _outbound(rt)
    assert verbs(_settled_as(rt, welcome.id, MessageStatus.ACCEPTED)) == ["UPDATE"]
    [sent] = client.get(f"/api/cases/{case_ref}/notifications", headers=auth).get_json()
    assert sent["status"] == "sent" and sent["sent_at"] is not None

    with rt.db.session() as session:
        loaded = session.scalars(select(Notification)).one()
        loaded.status = NotificationStatus.QUEUED
        session.flush()
        message = session.get_one(Message, welcome.id)
        message.status = MessageStatus.SUPPRESSED
        message.error_message = "not sent: the recipient has opted out"
        notifications.settle(session, message)
        assert loaded.status is NotificationStatus.SUPPRESSED  # without a refresh
        assert loaded.status_reason == "not sent: the recipient has opted out"
    # A status that settles nothing asks nothing.
    assert _settled_as(rt, welcome.id, MessageStatus.DELIVERED) == []
