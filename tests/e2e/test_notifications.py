"""Notifications end to end: API -> planned -> worker -> outbox -> dev phone."""

from __future__ import annotations

import time

import pytest
from flask.testing import FlaskClient

from models import Language, utcnow
from services.language.texts import text
from tests.conftest import LiveServer
from tests.support.factories import NO_QUIET_HOURS, new_case, new_victim
from tests.support.handset import Handset
from workers.worker import Worker

pytestmark = pytest.mark.e2e

SUMMARY = "A man has been arrested and is being questioned at the station."
SUMMARY_CY = "Mae dyn wedi'i arestio ac mae'n cael ei holi yn yr orsaf."


def _arrested(client: FlaskClient, auth: dict[str, str], case_ref: str) -> list[dict[str, object]]:
    response = client.post(
        f"/api/cases/{case_ref}/events",
        json={
            "type": "suspect_arrested",
            "occurred_at": utcnow().isoformat(),
            "summary": SUMMARY,
            "summary_cy": SUMMARY_CY,
        },
        headers=auth,
    )
    assert response.status_code == 201, response.get_json()
    notifications: list[dict[str, object]] = response.get_json()["notifications"]
    return notifications


def _sent(client: FlaskClient, auth: dict[str, str], case_ref: str) -> list[dict[str, object]]:
    """The case's notifications once none is still on its way."""
    for _ in range(100):
        listed = client.get(f"/api/cases/{case_ref}/notifications", headers=auth).get_json()
        if all(n["status"] not in ("pending", "queued") for n in listed):
            return list(listed)
        time.sleep(0.1)
    raise AssertionError(f"notifications still on their way: {listed}")


@pytest.mark.parametrize(
    ("phone", "channel", "language"),
    [("+447700900211", "sms", Language.EN), ("+447700900212", "whatsapp", Language.CY)],
)
def test_welcome_then_the_arrest_reach_the_phone_in_the_victims_language(
    client: FlaskClient,
    auth: dict[str, str],
    live_server: LiveServer,
    worker: Worker,
    phone: str,
    channel: str,
    language: Language,
) -> None:
    case_ref = new_case(client, auth, "CR-E2E-N1")
    new_victim(
        client,
        auth,
        case_ref,
        name="Nia Bowen",
        phone=phone,
        channel=channel,
        language=language.value,
        enhanced_rights=True,
        quiet_hours=NO_QUIET_HOURS,
    )
    handset = Handset(live_server.url, phone, channel)
    welcome = text("welcome", language, case_ref=case_ref)
    assert [m["body"] for m in handset.wait_for(1)] == [welcome]

    [planned] = _arrested(client, auth, case_ref)
    assert planned["status"] == "pending" and planned["kind"] == "code_update"
    summary = SUMMARY_CY if language is Language.CY else SUMMARY
    update = text("code_update", language, case_ref=case_ref, summary=summary)
    handset.wait_for(2)
    # Exactly the two, in order, each once.
    assert [m["body"] for m in handset.settle(quiet=2)] == [welcome, update]
    listed = _sent(client, auth, case_ref)
    assert [(n["kind"], n["status"], n["within_code"]) for n in listed] == [
        ("welcome", "sent", None),
        ("code_update", "sent", True),
    ]


def test_safe_contact_phone_shows_no_case_details(
    client: FlaskClient, auth: dict[str, str], live_server: LiveServer, worker: Worker
) -> None:
    case_ref = new_case(client, auth, "CR-E2E-N2")
    phone = "+447700900213"
    new_victim(
        client,
        auth,
        case_ref,
        name="Nia Bowen",
        phone=phone,
        quiet_hours=NO_QUIET_HOURS,
        safe_contact=True,
    )
    handset = Handset(live_server.url, phone)
    handset.wait_for(1)
    _arrested(client, auth, case_ref)
    handset.wait_for(2)
    bodies = [m["body"] for m in handset.settle(quiet=2)]
    assert bodies == [text("welcome_safe", Language.EN), text("code_update_safe", Language.EN)]
    assert not any(case_ref in b or "arrest" in b for b in bodies)


def test_opted_out_victim_gets_nothing(
    client: FlaskClient, auth: dict[str, str], live_server: LiveServer, worker: Worker
) -> None:
    case_ref = new_case(client, auth, "CR-E2E-N3")
    phone = "+447700900214"
    new_victim(client, auth, case_ref, name="Nia Bowen", phone=phone, quiet_hours=NO_QUIET_HOURS)
    handset = Handset(live_server.url, phone)
    welcome = text("welcome", Language.EN, case_ref=case_ref)
    assert [m["body"] for m in handset.wait_for(1)] == [welcome]
    handset.send("STOP")
    opted_out = text("opted_out", Language.EN)
    assert [m["body"] for m in handset.wait_for(2)] == [welcome, opted_out]
    _arrested(client, auth, case_ref)
    listed = _sent(client, auth, case_ref)
    assert [n["status"] for n in listed] == ["sent", "suppressed"]
    assert [m["body"] for m in handset.settle(quiet=2)] == [welcome, opted_out]
