"""The case data API: status codes, error bodies, and what it stores."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from models import Case, CaseEvent, CaseVictim, Victim
from services.runtime import Runtime
from tests.support.factories import VICTIM, new_case, new_victim

# Both databases: registration rests on unique constraints and their races.
pytestmark = pytest.mark.both_databases


def test_no_token_or_wrong_token_is_401(client: FlaskClient) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic x"}):
        response = client.post("/api/cases", json={}, headers=headers)
        assert response.status_code == 401
        assert "error" in response.get_json()


def test_create_case_then_duplicate_is_409(client: FlaskClient, auth: dict[str, str]) -> None:
    new_case(client, auth)
    again = client.post(
        "/api/cases",
        json={"case_ref": "CR-2026-0001", "crime_type": "x", "officer_in_charge": "y"},
        headers=auth,
    )
    assert again.status_code == 409
    assert "exists" in again.get_json()["error"]


def test_missing_field_names_the_field(client: FlaskClient, auth: dict[str, str]) -> None:
    response = client.post("/api/cases", json={"case_ref": "CR-1"}, headers=auth)
    assert response.status_code == 400
    assert "crime_type" in response.get_json()["error"]
    not_json = client.post("/api/cases", data="case_ref=1", headers=auth)
    assert not_json.status_code == 400
    assert "body" in not_json.get_json()["error"]


def test_victim_registration_normalises_and_defaults(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    case_ref = new_case(client, auth)
    victim_id = new_victim(client, auth, case_ref)
    with rt.db.session() as session:
        victim = session.get_one(Victim, victim_id)
        assert victim.phone == "+447700900123"
        assert victim.update_every_days == 28
        assert victim.quiet_start.isoformat() == "20:00:00"
        assert victim.quiet_end.isoformat() == "08:00:00"
        assert victim.enhanced_rights is False and victim.safe_contact is False


def test_one_person_on_two_cases_under_one_number(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    first = new_victim(client, auth, new_case(client, auth, "CR-A"))
    second = new_victim(client, auth, new_case(client, auth, "CR-B"), phone="+447700900123")
    assert first == second
    with rt.db.session() as session:
        links = session.scalars(select(CaseVictim).where(CaseVictim.victim_id == first)).all()
        assert len(links) == 2
    again = client.post("/api/cases/CR-A/victims", json=VICTIM, headers=auth)
    assert again.status_code == 409


def test_another_person_cannot_take_a_registered_number(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    new_victim(client, auth, new_case(client, auth, "CR-A"))
    case_b = new_case(client, auth, "CR-B")
    other = {**VICTIM, "name": "Someone Else", "date_of_birth": "1990-01-01"}
    response = client.post(f"/api/cases/{case_b}/victims", json=other, headers=auth)
    assert response.status_code == 409


def test_victim_field_errors(client: FlaskClient, auth: dict[str, str]) -> None:
    case_ref = new_case(client, auth)
    bad = {
        "phone": "12",
        "channel": "pigeon",
        "language": "fr",
        "date_of_birth": "02/03/1984",
        "enhanced_rights": "yes",
        "update_every_days": 0,
        "quiet_hours": {"start": "25:00", "end": "08:00"},
        "name": "",
    }
    for field, value in bad.items():
        response = client.post(
            f"/api/cases/{case_ref}/victims", json={**VICTIM, field: value}, headers=auth
        )
        assert response.status_code == 400, field
        assert field in response.get_json()["error"], response.get_json()


def test_unknown_case_is_404(client: FlaskClient, auth: dict[str, str]) -> None:
    response = client.post("/api/cases/NOPE/victims", json=VICTIM, headers=auth)
    assert response.status_code == 404
    event = {"type": "general_update", "occurred_at": "2026-11-27T10:00:00Z", "summary": "x"}
    assert client.post("/api/cases/NOPE/events", json=event, headers=auth).status_code == 404


def test_event_is_stored(client: FlaskClient, auth: dict[str, str], rt: Runtime) -> None:
    case_ref = new_case(client, auth)
    response = client.post(
        f"/api/cases/{case_ref}/events",
        json={
            "type": "suspect_arrested",
            "occurred_at": "2026-11-27T10:15:00+00:00",
            "summary": "Mae rhywun wedi'i arestio. Someone has been arrested. 👮",
        },
        headers=auth,
    )
    assert response.status_code == 201
    event_id = response.get_json()["event_id"]
    with rt.db.session() as session:
        event = session.get_one(CaseEvent, event_id)
        assert event.summary.endswith("👮")
        assert session.scalar(select(Case.case_ref).where(Case.id == event.case_id)) == case_ref


def test_event_field_errors(client: FlaskClient, auth: dict[str, str]) -> None:
    case_ref = new_case(client, auth)
    good = {"type": "general_update", "occurred_at": "2026-11-27T10:00:00Z", "summary": "s"}
    for field, value in {"type": "party", "occurred_at": "yesterday", "summary": ""}.items():
        response = client.post(
            f"/api/cases/{case_ref}/events", json={**good, field: value}, headers=auth
        )
        assert response.status_code == 400
        assert field in response.get_json()["error"]
