"""The Victims' Code as configuration: a force changes a limit in the file and sees it take
effect; a bad file stops start-up; Right 3's acknowledgement; Right 6's Right to Review offer."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask.testing import FlaskClient
from sqlalchemy import select

from models import Notification
from services.casework import notifications
from services.runtime import Runtime
from services.settings import Settings
from services.victims_code.duties import VictimsCodeError
from tests.support.factories import new_case, new_victim
from webhooks import create_app

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "victims_code.yml"
# Friday 27 November 2026, 10:15 UTC (London on GMT).
ARRESTED = {
    "type": "suspect_arrested",
    "occurred_at": "2026-11-27T10:15:00Z",
    "summary": "A man has been arrested and is being questioned.",
}
NO_FURTHER_ACTION = {
    "type": "suspect_released_no_further_action",
    "occurred_at": "2026-11-27T10:15:00Z",
    "summary": "The suspect has been released with no further action.",
    "summary_cy": "Mae'r sawl a ddrwgdybir wedi'i ryddhau heb gamau pellach.",
}


def _force_file(tmp_path: Path, standard: int, enhanced: int) -> Path:
    data: dict[str, Any] = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    data["duties"]["right_6_update"]["working_days"] = {"standard": standard, "enhanced": enhanced}
    path = tmp_path / "force_victims_code.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _event_due_by(client: FlaskClient, auth: dict[str, str], case_ref: str) -> list[str]:
    response = client.post(f"/api/cases/{case_ref}/events", json=ARRESTED, headers=auth)
    assert response.status_code == 201, response.get_json()
    return [n["due_by"] for n in response.get_json()["notifications"]]


def test_a_force_changes_a_limit_in_the_file_and_it_takes_effect(
    settings: Settings,
    auth: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The shipped file: 5 working days from Friday is the end of Friday 4 December.
    shipped = create_app(settings, TESTING=True)
    try:
        client = shipped.test_client()
        case_ref = new_case(client, auth)
        new_victim(client, auth, case_ref)
        assert _event_due_by(client, auth, case_ref) == ["2026-12-05T00:00:00Z"]
    finally:
        shipped.extensions["runtime"].close()

    # The force's file: 3 working days (Monday, Tuesday, Wednesday), and 2 with enhanced rights.
    path = _force_file(tmp_path, standard=3, enhanced=2)
    monkeypatch.setenv("VICTIMS_CODE_FILE", str(path))
    forced = create_app(
        dataclasses.replace(Settings.from_env(), **_same_place(settings)), TESTING=True
    )
    try:
        client = forced.test_client()
        case_ref = new_case(client, auth, "CR-2026-0002")
        new_victim(client, auth, case_ref, phone="+447700900125")
        new_victim(
            client,
            auth,
            case_ref,
            name="Owain Bevan",
            phone="+447700900126",
            date_of_birth="1960-01-01",
            enhanced_rights=True,
        )
        assert _event_due_by(client, auth, case_ref) == [
            "2026-12-03T00:00:00Z",
            "2026-12-02T00:00:00Z",
        ]
    finally:
        forced.extensions["runtime"].close()


def _same_place(settings: Settings) -> dict[str, Any]:
    # The test's own database and ports; everything else from the environment.
    names = ("database_url", "port", "public_base_url", "twilio_api_base_url", "api_token")
    return {name: getattr(settings, name) for name in names} | {
        "devphone_enabled": True,
        "worker_wake_addr": settings.worker_wake_addr,
    }


def test_a_bad_file_stops_the_app_factory_naming_file_duty_and_field(
    settings: Settings, tmp_path: Path
) -> None:
    path = _force_file(tmp_path, standard=0, enhanced=1)
    with pytest.raises(VictimsCodeError) as raised:
        create_app(dataclasses.replace(settings, victims_code_file=path), TESTING=True)
    message = str(raised.value)
    assert str(path) in message
    assert "duty 'right_6_update'" in message and "field 'working_days.standard'" in message


def _welcome(rt: Runtime, victim_id: int) -> tuple[Notification, str]:
    with rt.db.session() as session:
        [welcome] = session.scalars(select(Notification).where(Notification.victim_id == victim_id))
        return welcome, notifications.body(welcome)


@pytest.mark.parametrize("language", ["en", "cy"])
def test_right_3_the_welcome_acknowledges_the_report_with_what_the_code_lists(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, language: str
) -> None:
    case_ref = new_case(client, auth)
    victim_id = new_victim(client, auth, case_ref, language=language, acknowledges_report=True)
    welcome, body = _welcome(rt, victim_id)
    assert welcome.duty == "right_3_acknowledgement"
    # Registered on Wednesday 2 December (the test clock) or whenever: 5 working days on.
    assert welcome.due_by is not None and welcome.due_by > welcome.created_at
    for detail in (case_ref, "burglary", "PC Ifan Rees"):
        assert detail in body
    listed = client.get(f"/api/cases/{case_ref}/notifications", headers=auth).get_json()
    assert listed[0]["kind"] == "welcome" and listed[0]["due_by"] is not None


def test_right_3_in_safe_contact_the_acknowledgement_carries_nothing_of_the_case(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    case_ref = new_case(client, auth)
    victim_id = new_victim(client, auth, case_ref, acknowledges_report=True, safe_contact=True)
    welcome, body = _welcome(rt, victim_id)
    assert welcome.duty == "right_3_acknowledgement" and welcome.due_by is not None
    for detail in (case_ref, "burglary", "PC Ifan Rees", "crime"):
        assert detail not in body


def test_without_acknowledges_report_the_welcome_meets_no_duty(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    case_ref = new_case(client, auth)
    welcome, _body = _welcome(rt, new_victim(client, auth, case_ref))
    assert welcome.duty is None and welcome.due_by is None


def test_acknowledges_report_must_be_true_or_false(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    case_ref = new_case(client, auth)
    response = client.post(
        f"/api/cases/{case_ref}/victims",
        json={
            "name": "Rhiannon Prydderch",
            "phone": "07700 900123",
            "channel": "sms",
            "language": "en",
            "date_of_birth": "1984-03-02",
            "acknowledges_report": "yes",
        },
        headers=auth,
    )
    assert response.status_code == 400
    assert "acknowledges_report" in response.get_json()["error"]


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "ask for this decision to be reviewed"), ("cy", "penderfyniad hwn gael ei adolygu")],
)
def test_no_further_action_tells_the_victim_of_their_right_to_review_and_by_when(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, language: str, words: str
) -> None:
    case_ref = new_case(client, auth)
    new_victim(client, auth, case_ref, language=language)
    response = client.post(f"/api/cases/{case_ref}/events", json=NO_FURTHER_ACTION, headers=auth)
    [planned] = response.get_json()["notifications"]
    assert planned["due_by"] == "2026-12-05T00:00:00Z"  # Right 6's limit
    with rt.db.session() as session:
        notification = session.get_one(Notification, planned["id"])
        body = notifications.body(notification)
    assert notification.duty == "right_to_review_offer"
    assert words in body
    # 3 months from the decision on 27 November 2026.
    assert ("27 February 2027" if language == "en" else "27 Chwefror 2027") in body


def test_in_safe_contact_a_no_further_action_says_only_there_is_an_update(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    case_ref = new_case(client, auth)
    new_victim(client, auth, case_ref, safe_contact=True)
    closed = {**NO_FURTHER_ACTION, "type": "investigation_closed"}
    response = client.post(f"/api/cases/{case_ref}/events", json=closed, headers=auth)
    [planned] = response.get_json()["notifications"]
    with rt.db.session() as session:
        body = notifications.body(session.get_one(Notification, planned["id"]))
    assert "review" not in body.lower() and case_ref not in body
    assert "There is an update for you" in body


@pytest.mark.parametrize("process", ["scheduler", "workers"])
def test_a_bad_file_stops_the_scheduler_and_the_workers_too(
    database_url: str, tmp_path: Path, process: str
) -> None:
    path = _force_file(tmp_path, standard=5, enhanced=0)
    env = {**os.environ, "DATABASE_URL": database_url, "VICTIMS_CODE_FILE": str(path)}
    done = subprocess.run(
        [sys.executable, "-m", process],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode != 0
    assert "duty 'right_6_update', field 'working_days.enhanced'" in done.stderr
    assert str(path) in done.stderr
