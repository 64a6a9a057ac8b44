"""Cases from the console use the API's service code: same checks, same notifications."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from models import AuditEvent, CaseEvent, Notification, OfficerRole, Victim
from services.runtime import Runtime
from tests.support.console import post, signed_in


def _register(client: FlaskClient) -> None:
    response = post(
        client,
        "/console/cases",
        {"case_ref": "CR-FORM-1", "crime_type": "criminal damage", "officer_in_charge": "DC Rees"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def test_register_case_victim_and_event_with_forms(client: FlaskClient, rt: Runtime) -> None:
    signed_in(client, rt, "alys", OfficerRole.OFFICER)
    _register(client)
    victim = post(
        client,
        "/console/cases/CR-FORM-1/victims",
        {
            "name": "Nia Rowlands",
            "phone": "07700 900441",
            "channel": "whatsapp",
            "language": "cy",
            "date_of_birth": "1992-07-09",
            "update_every_days": "14",
            "enhanced_rights": "y",
        },
    )
    assert victim.status_code == 302
    event = post(
        client,
        "/console/cases/CR-FORM-1/events",
        {
            "type": "suspect_arrested",
            "occurred_at": "2026-11-27T09:30",
            "summary": "A man was arrested.",
            "summary_cy": "Cafodd dyn ei arestio.",
        },
    )
    assert event.status_code == 302
    with rt.db.session() as session:
        stored = session.scalar(select(Victim).where(Victim.phone == "+447700900441"))
        assert stored is not None and stored.language.value == "cy" and stored.enhanced_rights
        assert stored.update_every_days == 14
        [recorded] = session.scalars(select(CaseEvent)).all()
        assert recorded.recorded_by == "PC Alys" and recorded.summary_cy == "Cafodd dyn ei arestio."
        assert recorded.occurred_at.isoformat() == "2026-11-27T09:30:00+00:00"
        kinds = sorted(n.kind.value for n in session.scalars(select(Notification)))
        assert kinds == ["code_update", "welcome"]  # the same plans the API makes
        actions = [
            e.action.value for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ]
    assert actions[-3:] == ["register_case", "register_victim", "record_event"]
    page = client.get("/console/cases/CR-FORM-1").get_data(as_text=True)
    assert "Nia Rowlands" in page and "A man was arrested." in page


def test_the_api_rules_apply_to_the_forms(client: FlaskClient, rt: Runtime) -> None:
    signed_in(client, rt, "alys", OfficerRole.OFFICER)
    _register(client)
    again = post(
        client,
        "/console/cases",
        {"case_ref": "CR-FORM-1", "crime_type": "x", "officer_in_charge": "y"},
    )
    assert again.status_code == 409
    bad_phone = post(
        client,
        "/console/cases/CR-FORM-1/victims",
        {
            "name": "Nia Rowlands",
            "phone": "not a phone",
            "channel": "sms",
            "language": "en",
            "date_of_birth": "1992-07-09",
            "update_every_days": "28",
        },
    )
    assert bad_phone.status_code == 400 and b"phone" in bad_phone.data


def test_an_officer_lists_only_the_cases_they_are_on(client: FlaskClient, rt: Runtime) -> None:
    signed_in(client, rt, "alys", OfficerRole.OFFICER)
    _register(client)
    post(client, "/console/logout")
    signed_in(client, rt, "ifan", OfficerRole.OFFICER)
    assert "CR-FORM-1" not in client.get("/console/cases").get_data(as_text=True)
    assert client.get("/console/cases/CR-FORM-1").status_code == 403
    post(client, "/console/logout")
    signed_in(client, rt, "huw", OfficerRole.SUPERVISOR)
    assert "CR-FORM-1" in client.get("/console/cases").get_data(as_text=True)
