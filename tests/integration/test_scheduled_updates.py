"""Updates scheduled by people: the API (contract), and the rules every notification keeps."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from models import Conversation, Language, Message, Notification, NotificationStatus
from services.casework import notifications
from services.language.texts import text
from services.messaging import inbound
from services.runtime import Runtime
from tests.support.clock import FakeClock
from tests.support.factories import NO_QUIET_HOURS, new_case, new_victim

CASE = "CR-2026-0100"
URL = f"/api/cases/{CASE}/scheduled-updates"


def _case_with_victims(client: FlaskClient, auth: dict[str, str], **second: Any) -> None:
    new_case(client, auth, CASE)
    new_victim(client, auth, CASE, phone="+447700900501", quiet_hours=NO_QUIET_HOURS)
    new_victim(
        client,
        auth,
        CASE,
        name="Gethin Owen",
        phone="+447700900502",
        language="cy",
        date_of_birth="1969-07-21",
        quiet_hours=NO_QUIET_HOURS,
        **second,
    )


def _messages(rt: Runtime) -> list[str]:
    with rt.db.session() as session:
        return [
            m.body
            for m in session.scalars(
                select(Message)
                .join(Notification, Notification.message_id == Message.id)
                .where(Notification.scheduled_update_id.is_not(None))
                .order_by(Notification.victim_id)
            )
        ]


def test_schedule_list_change_and_cancel(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, clock: FakeClock
) -> None:
    _case_with_victims(client, auth)
    send_at = "2026-12-03T14:00:00+00:00"
    created = client.post(
        URL,
        json={
            "send_at": send_at,
            "text_en": "We met the CPS.",
            "text_cy": "Fe wnaethon ni gwrdd â'r CPS.",
        },
        headers=auth,
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["status"] == "scheduled" and body["send_at"] == "2026-12-03T14:00:00Z"
    assert [n["kind"] for n in body["notifications"]] == ["scheduled", "scheduled"]
    assert {n["status"] for n in body["notifications"]} == {"pending"}

    listed = client.get(URL, headers=auth).get_json()
    assert [u["id"] for u in listed] == [body["id"]]

    changed = client.patch(
        f"{URL}/{body['id']}", json={"send_at": "2026-12-04T09:30:00+00:00"}, headers=auth
    )
    assert changed.status_code == 200
    assert changed.get_json()["send_at"] == "2026-12-04T09:30:00Z"
    with rt.db.session() as session:
        times = set(
            session.scalars(
                select(Notification.send_at).where(Notification.scheduled_update_id == body["id"])
            )
        )
    assert times == {dt.datetime(2026, 12, 4, 9, 30, tzinfo=dt.UTC)}

    # Not yet: nothing goes before its time.
    clock.set(dt.datetime(2026, 12, 4, 9, 29, tzinfo=dt.UTC))
    notifications.hand_over_due(rt.db)
    assert _messages(rt) == []

    cancelled = client.delete(f"{URL}/{body['id']}", headers=auth)
    assert cancelled.status_code == 200
    assert cancelled.get_json()["status"] == "cancelled"
    assert {n["status"] for n in cancelled.get_json()["notifications"]} == {"cancelled"}
    clock.advance(days=1)
    notifications.hand_over_due(rt.db)
    assert _messages(rt) == []
    assert client.delete(f"{URL}/{body['id']}", headers=auth).status_code == 409


def test_it_goes_at_its_time_in_each_victims_language_and_then_cannot_change(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, clock: FakeClock
) -> None:
    _case_with_victims(client, auth)
    body = client.post(
        URL,
        json={
            "send_at": "2026-12-02T15:00:00Z",
            "text_en": "The suspect's phone has been examined.",
            "text_cy": "Mae ffôn y sawl a ddrwgdybir wedi'i archwilio.",
        },
        headers=auth,
    ).get_json()
    clock.set(dt.datetime(2026, 12, 2, 15, 0, tzinfo=dt.UTC))
    notifications.hand_over_due(rt.db)
    assert _messages(rt) == [
        text(
            "scheduled", Language.EN, case_ref=CASE, text="The suspect's phone has been examined."
        ),
        text(
            "scheduled",
            Language.CY,
            case_ref=CASE,
            text="Mae ffôn y sawl a ddrwgdybir wedi'i archwilio.",
        ),
    ]
    late = client.patch(f"{URL}/{body['id']}", json={"text_en": "Too late"}, headers=auth)
    assert late.status_code == 409
    assert client.get(f"{URL}/{body['id']}", headers=auth).get_json()["status"] == "sent"


def test_safe_contact_gets_no_details_and_both_languages_when_asked(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, clock: FakeClock
) -> None:
    _case_with_victims(client, auth, safe_contact=True)
    client.post(
        URL,
        json={
            "send_at": "2026-12-02T10:00:00Z",
            "text_en": "Court date set.",
            "text_cy": "Mae dyddiad llys wedi'i bennu.",
            "bilingual": True,
        },
        headers=auth,
    )
    notifications.hand_over_due(rt.db)
    english, safe = _messages(rt)
    assert "Mae dyddiad llys wedi'i bennu. / Court date set." in english
    assert safe == text("code_update_safe", Language.CY)


def test_quiet_hours_hold_a_scheduled_update_until_they_end(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, clock: FakeClock
) -> None:
    new_case(client, auth, CASE)
    new_victim(client, auth, CASE, quiet_hours={"start": "21:00", "end": "08:00"})
    body = client.post(
        URL, json={"send_at": "2026-12-02T22:30:00Z", "text_en": "An update."}, headers=auth
    ).get_json()
    assert body["notifications"][0]["status"] == "pending"
    with rt.db.session() as session:
        n = session.scalars(
            select(Notification).where(Notification.scheduled_update_id == body["id"])
        ).one()
        assert n.send_at == dt.datetime(2026, 12, 3, 8, 0, tzinfo=dt.UTC)
    clock.set(dt.datetime(2026, 12, 2, 23, 0, tzinfo=dt.UTC))
    notifications.hand_over_due(rt.db)
    assert _messages(rt) == []
    clock.set(dt.datetime(2026, 12, 3, 8, 0, tzinfo=dt.UTC))
    notifications.hand_over_due(rt.db)
    assert len(_messages(rt)) == 1


def test_bad_requests_are_refused_with_a_reason(
    client: FlaskClient, auth: dict[str, str], clock: FakeClock
) -> None:
    _case_with_victims(client, auth)
    cases = [
        ({"send_at": "2026-12-03T14:00:00"}, "send_at"),  # no offset
        ({"send_at": "tomorrow", "text_en": "x"}, "send_at"),
        ({"send_at": "2026-12-01T14:00:00Z", "text_en": "x"}, "past"),
        ({"send_at": "2028-12-01T14:00:00Z", "text_en": "x"}, "year"),
        ({"send_at": "2026-12-03T14:00:00Z"}, "text_en or text_cy"),
        ({"send_at": "2026-12-03T14:00:00Z", "text_en": "  "}, "text_en"),
        ({"send_at": "2026-12-03T14:00:00Z", "text_en": "x" * 1001}, "1000"),
        ({"send_at": "2026-12-03T14:00:00Z", "text_en": "x", "bilingual": True}, "both"),
    ]
    for payload, words in cases:
        answer = client.post(URL, json=payload, headers=auth)
        assert answer.status_code == 400, payload
        assert words in answer.get_json()["error"], (payload, answer.get_json())
    assert client.post(URL, data="not json", headers=auth).status_code == 400
    assert (
        client.post("/api/cases/NOPE/scheduled-updates", json={}, headers=auth).status_code == 404
    )
    assert client.delete(f"{URL}/999", headers=auth).status_code == 404
    assert client.get(URL).status_code == 401
    # Emoji and Welsh letters are text like any other.
    ok = client.post(
        URL, json={"send_at": "2026-12-03T14:00:00Z", "text_cy": "Diolch ŵyr 👍"}, headers=auth
    )
    assert ok.status_code == 201 and ok.get_json()["text_cy"] == "Diolch ŵyr 👍"


def test_a_closed_case_takes_no_scheduled_updates(
    client: FlaskClient, auth: dict[str, str], clock: FakeClock
) -> None:
    _case_with_victims(client, auth)
    assert client.post(f"/api/cases/{CASE}/close", headers=auth).status_code == 200
    answer = client.post(
        URL, json={"send_at": "2026-12-03T14:00:00Z", "text_en": "x"}, headers=auth
    )
    assert answer.status_code == 409


def test_opted_out_victims_get_nothing_and_it_says_why(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, clock: FakeClock
) -> None:
    _case_with_victims(client, auth)
    with rt.db.session() as session:
        conversation_id = inbound.conversation_id_for(session, "+447700900501")
        session.get_one(Conversation, conversation_id).opted_out_at = clock()
    client.post(URL, json={"send_at": "2026-12-02T10:00:00Z", "text_en": "x"}, headers=auth)
    notifications.hand_over_due(rt.db)
    with rt.db.session() as session:
        rows = session.scalars(
            select(Notification)
            .where(Notification.scheduled_update_id.is_not(None))
            .order_by(Notification.victim_id)
        ).all()
        assert [n.status for n in rows] == [
            NotificationStatus.SUPPRESSED,
            NotificationStatus.QUEUED,
        ]
        assert "opted out" in (rows[0].status_reason or "")
