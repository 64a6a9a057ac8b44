"""Who may see a victim: the issue's first example and the rest of its kind.

An officer who makes a case of their own and puts a known number on it gets the same answer
whatever date of birth they give, and nothing about the victim; each attempt is audited
against the victim and throttled; a supervisor decides. Claiming a handoff gives that
conversation only, and only while the officer has it. Refusals are audited and stay."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from models import (
    AttachRequest,
    AttachStatus,
    AuditAction,
    AuditEvent,
    CaseVictim,
    Conversation,
    NeedsAssessment,
    OfficerRole,
)
from services.runtime import Runtime
from tests.support.clock import FakeClock
from tests.support.console import login, make_officer, post, signed_in, waiting_victim
from tests.support.factories import VICTIM, new_case, new_victim, quiet_hours_covering_now

MEGAN = "+447700900601"


def _events(rt: Runtime, action: AuditAction) -> list[AuditEvent]:
    with rt.db.session() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


def _own_case(client: FlaskClient, ref: str = "CR-MINE-1") -> None:
    made = post(
        client,
        "/console/cases",
        {"case_ref": ref, "crime_type": "theft", "officer_in_charge": "PC Ifan Rees"},
    )
    assert made.status_code == 302


def _attach(client: FlaskClient, ref: str, **fields: Any) -> Any:
    form = {
        "name": VICTIM["name"],
        "phone": MEGAN,
        "channel": "sms",
        "language": "en",
        "date_of_birth": VICTIM["date_of_birth"],
        "update_every_days": "28",
        **fields,
    }
    return post(client, f"/console/cases/{ref}/victims", form)


def _registered_elsewhere(client: FlaskClient, auth: dict[str, str]) -> int:
    new_case(client, auth, "CR-THEIRS-1")
    return new_victim(
        client, auth, "CR-THEIRS-1", phone=MEGAN, quiet_hours=quiet_hours_covering_now()
    )


def test_a_known_number_on_an_officers_own_case_waits_for_a_supervisor(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    victim_id = _registered_elsewhere(client, auth)
    signed_in(client, rt, "ifan", OfficerRole.OFFICER)
    _own_case(client)
    # The wrong date of birth and the right one get the same answer; neither registers.
    answers = []
    for birth in ("1984-03-01", VICTIM["date_of_birth"]):
        response = _attach(client, "CR-MINE-1", date_of_birth=birth)
        assert response.status_code == 302
        page = client.get("/console/cases/CR-MINE-1").get_data(as_text=True)
        answers.append(page.split('<div class="flash"')[1].split("</div>")[0])
        assert VICTIM["name"] not in page.split("</header>")[1].split("Add a victim")[0]
    assert answers[0] == answers[1] and "supervisor" in answers[0]
    with rt.db.session() as session:
        places = session.scalars(select(CaseVictim).where(CaseVictim.victim_id == victim_id))
        assert len(places.all()) == 1  # still only on the other officer's case
    requests = _events(rt, AuditAction.REQUEST_ATTACH)
    assert [(e.actor, e.victim_id) for e in requests] == [("ifan", victim_id)] * 2
    # The victim's page stays shut to this officer, and trying is audited.
    assert client.get(f"/console/victims/{victim_id}").status_code == 403
    refused = _events(rt, AuditAction.REFUSED)
    assert refused[-1].victim_id == victim_id and refused[-1].actor == "ifan"


def test_refused_registrations_are_paused_after_five(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    victim_id = _registered_elsewhere(client, auth)
    signed_in(client, rt, "ifan", OfficerRole.OFFICER)
    _own_case(client)
    for day in range(1, 6):
        assert _attach(client, "CR-MINE-1", date_of_birth=f"1980-01-{day:02d}").status_code == 302
    paused = _attach(client, "CR-MINE-1", date_of_birth="1980-01-06")
    assert paused.status_code == 429
    assert len(_events(rt, AuditAction.REQUEST_ATTACH)) == 5
    refused = _events(rt, AuditAction.REFUSED)
    assert refused[-1].victim_id == victim_id and "paused" in refused[-1].detail


def test_a_supervisor_approves_only_when_the_details_match(
    app: Flask, client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    victim_id = _registered_elsewhere(client, auth)
    signed_in(client, rt, "ifan", OfficerRole.OFFICER)
    _own_case(client, "CR-MINE-1")
    _own_case(client, "CR-MINE-2")
    _attach(client, "CR-MINE-1", date_of_birth="1984-03-01")  # wrong
    _attach(client, "CR-MINE-2")  # right
    supervisor = app.test_client()
    make_officer(rt, "huw", OfficerRole.SUPERVISOR)
    login(supervisor, "huw")
    page = supervisor.get("/console/requests").get_data(as_text=True)
    assert "NO: name or date of birth differ" in page and page.count("Approve #") == 2
    with rt.db.session() as session:
        wrong, right = session.scalars(select(AttachRequest).order_by(AttachRequest.id)).all()
    assert post(supervisor, f"/console/requests/{wrong.id}/approve").status_code == 302
    assert post(supervisor, f"/console/requests/{right.id}/approve").status_code == 302
    with rt.db.session() as session:
        wrong, right = session.scalars(select(AttachRequest).order_by(AttachRequest.id)).all()
        assert wrong.status is AttachStatus.REFUSED and right.status is AttachStatus.APPROVED
        # Decided: what the officer typed is not kept.
        assert wrong.payload == {} and right.payload == {}
    assert [e.victim_id for e in _events(rt, AuditAction.APPROVE_ATTACH)] == [victim_id]
    assert [e.victim_id for e in _events(rt, AuditAction.REFUSE_ATTACH)] == [victim_id]
    # Now on one of Ifan's cases, the victim is his to see.
    assert client.get(f"/console/victims/{victim_id}").status_code == 200


def test_an_officer_adds_a_victim_they_already_see_directly(
    client: FlaskClient, rt: Runtime
) -> None:
    signed_in(client, rt, "ifan", OfficerRole.OFFICER)
    _own_case(client, "CR-MINE-1")
    _own_case(client, "CR-MINE-2")
    assert _attach(client, "CR-MINE-1").status_code == 302
    assert _attach(client, "CR-MINE-2").status_code == 302
    with rt.db.session() as session:
        assert len(session.scalars(select(CaseVictim)).all()) == 2
        assert session.scalars(select(AttachRequest)).all() == []


def test_a_claim_gives_that_conversation_only_and_lapses_when_it_is_handed_back(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    conversation_id, handoff_id = waiting_victim(client, auth, rt, MEGAN, case_ref="CR-Q-1")
    with rt.db.session() as session:
        victim_id = session.get_one(Conversation, conversation_id).victim_id
        assert victim_id is not None
        session.add(NeedsAssessment(victim_id=victim_id))
    signed_in(client, rt, "ifan", OfficerRole.OFFICER)
    # In the queue: the case reference is not shown to an officer who is not on the case.
    queue = client.get("/console/queue").get_data(as_text=True)
    assert VICTIM["name"] in queue and "CR-Q-1" not in queue
    assert post(client, f"/console/handoffs/{handoff_id}/claim").status_code == 302
    page = client.get(f"/console/conversations/{conversation_id}").get_data(as_text=True)
    assert "CR-Q-1" not in page and "No answers yet." in page  # no case, no needs
    assert client.get("/console/cases/CR-Q-1").status_code == 403
    assert client.get(f"/console/victims/{victim_id}").status_code == 200
    # Handed back: the conversation is no longer his, nor the victim.
    assert post(client, f"/console/conversations/{conversation_id}/hand-back").status_code == 302
    assert client.get(f"/console/conversations/{conversation_id}").status_code == 403
    assert client.get(f"/console/victims/{victim_id}").status_code == 403


def test_a_supervisor_puts_an_officer_on_a_case_and_it_is_audited(
    app: Flask, client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    new_case(client, auth, "CR-API-1")
    make_officer(rt, "ifan")
    officer = app.test_client()
    login(officer, "ifan")
    assert officer.get("/console/cases/CR-API-1").status_code == 403
    signed_in(client, rt, "huw", OfficerRole.SUPERVISOR)
    assert post(client, "/console/cases/CR-API-1/officers", {"username": "ifan"}).status_code == 302
    assert officer.get("/console/cases/CR-API-1").status_code == 200
    [grant] = _events(rt, AuditAction.GRANT_CASE)
    assert grant.actor == "huw" and grant.detail == "ifan"


def test_a_refused_act_is_audited_and_the_audit_row_stays(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    """The refusal's audit event is committed on its own: the act's rollback keeps it."""
    conversation_id, _ = waiting_victim(client, auth, rt, MEGAN)
    make_officer(rt, "alys")
    other = client.application.test_client()
    login(other, "alys")
    signed_in(client, rt, "ifan", OfficerRole.OFFICER)
    reply = post(client, f"/console/conversations/{conversation_id}/reply", {"body": "hello"})
    assert reply.status_code == 403
    [refused] = _events(rt, AuditAction.REFUSED)
    assert refused.actor == "ifan" and refused.officer_id is not None
    assert "/reply" in refused.detail


def test_reading_a_transcript_directly_is_audited(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, clock: FakeClock
) -> None:
    conversation_id, _ = waiting_victim(client, auth, rt, MEGAN)
    signed_in(client, rt, "ifan", OfficerRole.OFFICER)
    url = f"/console/conversations/{conversation_id}/transcript"
    assert client.get(url).status_code == 200
    reads = _events(rt, AuditAction.VIEW_TRANSCRIPT)
    assert len(reads) == 1 and reads[0].conversation_id == conversation_id
    assert reads[0].victim_id is not None
    # The page's own updates every 2 s are one read, not thirty a minute...
    for _ in range(3):
        client.get(url, headers={"X-Console-Poll": "1"})
    assert len(_events(rt, AuditAction.VIEW_TRANSCRIPT)) == 1
    # ...and a read goes in again after five minutes of it.
    clock.advance(minutes=5, seconds=1)
    client.get(url, headers={"X-Console-Poll": "1"})
    assert len(_events(rt, AuditAction.VIEW_TRANSCRIPT)) == 2
