"""Registering someone already known (docs/SAFETY.md): the stricter of old and new protective
settings stays in force, safe contact and enhanced rights only go up, what differs is
reported, and the API, the console and the CSV import behave alike (one code path:
services/casework/cases.register_victim)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from models import (
    AuditAction,
    AuditEvent,
    Case,
    Notification,
    NotificationKind,
    OfficerRole,
    Victim,
)
from services.casework import notifications
from services.language.texts import text
from services.runtime import Runtime
from tests.support.console import post, signed_in
from tests.support.factories import NO_QUIET_HOURS, VICTIM, new_case

PHONE = "+447700900311"
# The API audits under the calling token's name (services/console/audit.py).
API_ACTOR = "api:API_TOKEN"
FIRST, SECOND = "CR-KNOWN-1", "CR-KNOWN-2"
CSV_HEADER = (
    "case_ref,crime_type,officer_in_charge,name,phone,channel,language,date_of_birth,"
    "enhanced_rights,update_every_days,quiet_start,quiet_end,safe_contact"
)

# The second registration asks for more protection (safe contact, enhanced rights), and for
# settings that would lower it (another channel, more frequent contact) or differ (language).
SECOND_ASKS = {
    "channel": "whatsapp",
    "language": "cy",
    "enhanced_rights": True,
    "safe_contact": True,
    "update_every_days": 7,
}


def _first(client: FlaskClient, auth: dict[str, str], **fields: Any) -> int:
    new_case(client, auth, FIRST)
    new_case(client, auth, SECOND)
    answer = client.post(
        f"/api/cases/{FIRST}/victims",
        json={**VICTIM, "phone": PHONE, "quiet_hours": NO_QUIET_HOURS, **fields},
        headers=auth,
    )
    assert answer.status_code == 201, answer.get_json()
    body: dict[str, Any] = answer.get_json()
    assert body["already_registered"] is False and body["differences"] == []
    return int(body["victim_id"])


def _by_api(client: FlaskClient, auth: dict[str, str], rt: Runtime, app: Flask, tmp: Path) -> str:
    answer = client.post(
        f"/api/cases/{SECOND}/victims",
        json={**VICTIM, "phone": PHONE, **SECOND_ASKS},
        headers=auth,
    )
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body["already_registered"] is True
    assert body["settings"] == {
        "channel": "sms",
        "language": "en",
        "safe_contact": True,
        "enhanced_rights": True,
        "update_every_days": 28,
        "quiet_hours": {"start": "00:00", "end": "00:00"},
    }
    assert sorted(body["raised"]) == ["enhanced_rights", "safe_contact"]
    assert sorted(body["differences"], key=lambda d: d["field"]) == [
        {"field": "channel", "requested": "whatsapp", "in_force": "sms"},
        {"field": "frequency", "requested": 7, "in_force": 28},
        {"field": "language", "requested": "cy", "in_force": "en"},
    ]
    return API_ACTOR


def _by_console(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, app: Flask, tmp: Path
) -> str:
    signed_in(client, rt, "alys", OfficerRole.SUPERVISOR)
    form = {
        "name": VICTIM["name"],
        "phone": PHONE,
        "date_of_birth": VICTIM["date_of_birth"],
        **SECOND_ASKS,
        "enhanced_rights": "y",
        "safe_contact": "y",
    }
    answer = post(client, f"/console/cases/{SECOND}/victims", form)
    assert answer.status_code == 302, answer.get_data(as_text=True)
    page = client.get(f"/console/cases/{SECOND}").get_data(as_text=True)
    assert "already registered on another case" in page
    assert "raised to the stricter setting: enhanced_rights, safe_contact" in page
    assert "channel stays sms (asked whatsapp)" in page
    return "alys"


def _by_import(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, app: Flask, tmp: Path
) -> str:
    path = tmp / "second.csv"
    row = (
        f"{SECOND},burglary,PC Ifan Rees,{VICTIM['name']},{PHONE},WhatsApp,cy,02/03/1984,"
        "yes,7,,,yes"
    )
    path.write_text(f"{CSV_HEADER}\n{row}\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["import-cases", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 rows: 1 imported" in result.output
    assert "line 2: imported, person already known: already registered" in result.output
    assert "raised to the stricter setting: enhanced_rights, safe_contact" in result.output
    assert "channel stays sms (asked whatsapp)" in result.output
    assert PHONE not in result.output  # the report may be pasted into a ticket
    return "cli:import-cases"


@pytest.mark.parametrize("register", [_by_api, _by_console, _by_import])
def test_a_known_person_keeps_the_stricter_settings_whoever_registers_them(
    client: FlaskClient,
    auth: dict[str, str],
    rt: Runtime,
    app: Flask,
    tmp_path: Path,
    register: Callable[..., str],
) -> None:
    victim_id = _first(client, auth)
    actor = register(client, auth, rt, app, tmp_path)
    with rt.db.session() as session:
        victim = session.get_one(Victim, victim_id)
        assert (victim.safe_contact, victim.enhanced_rights) == (True, True)
        assert (victim.channel.value, victim.language.value) == ("sms", "en")
        assert victim.update_every_days == 28
        # The new case's welcome is the safe-contact one: it names no case.
        second = session.scalar(select(Case).where(Case.case_ref == SECOND))
        assert second is not None
        welcome = session.scalars(
            select(Notification).where(
                Notification.case_id == second.id, Notification.kind == NotificationKind.WELCOME
            )
        ).one()
        said = notifications.body(welcome)
        assert said == text("welcome_safe", victim.language) and SECOND not in said
        # Who changed what, for the record.
        changes = session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.CHANGE_SETTING)
        ).all()
        assert {(e.actor, e.detail) for e in changes} == {
            (actor, f"enhanced_rights: off -> on (registered on case {SECOND})"),
            (actor, f"safe_contact: off -> on (registered on case {SECOND})"),
        }
        registered = session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.REGISTER_VICTIM)
        ).all()
        assert [e.actor for e in registered] == [API_ACTOR, actor]


def test_registration_never_lowers_safe_contact_or_enhanced_rights(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    victim_id = _first(
        client,
        auth,
        safe_contact=True,
        enhanced_rights=True,
        update_every_days=42,
        quiet_hours={"start": "19:00", "end": "09:00"},
    )
    answer = client.post(
        f"/api/cases/{SECOND}/victims",
        json={
            **VICTIM,
            "phone": PHONE,
            "safe_contact": False,
            "enhanced_rights": False,
            "update_every_days": 14,
            "quiet_hours": {"start": "22:00", "end": "07:00"},
        },
        headers=auth,
    )
    assert answer.status_code == 201
    body = answer.get_json()
    assert body["raised"] == []
    assert {d["field"]: (d["requested"], d["in_force"]) for d in body["differences"]} == {
        "safe_contact": (False, True),
        "enhanced_rights": (False, True),
        "frequency": (14, 42),
        "quiet_hours": ({"start": "22:00", "end": "07:00"}, {"start": "19:00", "end": "09:00"}),
    }
    with rt.db.session() as session:
        victim = session.get_one(Victim, victim_id)
        assert victim.safe_contact and victim.enhanced_rights
        assert victim.update_every_days == 42
        assert victim.quiet_start.hour == 19 and victim.quiet_end.hour == 9
        assert (
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == AuditAction.CHANGE_SETTING)
            ).all()
            == []
        )


def test_quiet_hours_that_cover_the_old_ones_are_taken(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    _first(client, auth, quiet_hours={"start": "20:00", "end": "08:00"})
    answer = client.post(
        f"/api/cases/{SECOND}/victims",
        json={**VICTIM, "phone": PHONE, "quiet_hours": {"start": "18:00", "end": "09:30"}},
        headers=auth,
    )
    body = answer.get_json()
    assert body["raised"] == ["quiet_hours"] and body["differences"] == []
    assert body["settings"]["quiet_hours"] == {"start": "18:00", "end": "09:30"}


def test_another_person_on_the_phone_is_still_refused(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    _first(client, auth)
    answer = client.post(
        f"/api/cases/{SECOND}/victims",
        json={**VICTIM, "phone": PHONE, "name": "Someone Else", "safe_contact": True},
        headers=auth,
    )
    assert answer.status_code == 409
