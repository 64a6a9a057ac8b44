"""Who may grant what: an admin can grant no role that sees victims, not even to themselves;
only a supervisor creates or promotes a supervisor; every grant is audited."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from models import AuditAction, AuditEvent, Officer, OfficerRole
from services.runtime import Runtime
from tests.support.console import login, make_officer, post, signed_in


def _officer(rt: Runtime, username: str) -> Officer:
    with rt.db.session() as session:
        officer = session.scalar(select(Officer).where(Officer.username == username))
        assert officer is not None
        return officer


def _audited(rt: Runtime, action: AuditAction) -> list[AuditEvent]:
    with rt.db.session() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


def _new_account(role: str, username: str = "ifan") -> dict[str, str]:
    return {
        "username": username,
        "display_name": "PC Ifan Rees",
        "role": role,
        "password": "a long enough passphrase",
    }


def test_an_admin_cannot_create_an_account_that_sees_victims(
    client: FlaskClient, rt: Runtime
) -> None:
    signed_in(client, rt, "elen", OfficerRole.ADMIN)
    for role in ("officer", "supervisor"):
        assert post(client, "/console/accounts", _new_account(role)).status_code == 403
    with rt.db.session() as session:
        assert session.scalar(select(Officer).where(Officer.username == "ifan")) is None
    refused = _audited(rt, AuditAction.REFUSED)
    assert len(refused) == 2 and all(e.actor == "elen" for e in refused)
    # The accounts page offers an admin the admin role only.
    page = client.get("/console/accounts").get_data(as_text=True)
    create_form = page.split("Create an account")[1]
    assert 'value="admin"' in create_form and 'value="supervisor"' not in create_form
    assert post(client, "/console/accounts", _new_account("admin", "rhys")).status_code == 302


def test_an_admin_cannot_promote_anyone_or_themselves(client: FlaskClient, rt: Runtime) -> None:
    elen = signed_in(client, rt, "elen", OfficerRole.ADMIN)
    other_admin = make_officer(rt, "rhys", OfficerRole.ADMIN)
    ifan = make_officer(rt, "ifan", OfficerRole.OFFICER)
    attempts = [
        (elen, "supervisor"),
        (other_admin, "supervisor"),
        (other_admin, "officer"),
        (ifan, "supervisor"),
    ]
    for officer_id, role in attempts:
        response = post(
            client,
            f"/console/accounts/{officer_id}",
            {f"o{officer_id}-role": role, f"o{officer_id}-active": "y"},
        )
        assert response.status_code in (400, 403), (officer_id, role, response.status_code)
    assert _officer(rt, "elen").role is OfficerRole.ADMIN
    assert _officer(rt, "rhys").role is OfficerRole.ADMIN
    assert _officer(rt, "ifan").role is OfficerRole.OFFICER
    # Nor may an admin take over an officer's account by resetting its password or factor.
    for change in (
        {f"o{ifan}-password": "a new passphrase for ifan"},
        {f"o{ifan}-reset_second_factor": "y"},
    ):
        response = post(
            client,
            f"/console/accounts/{ifan}",
            {f"o{ifan}-role": "officer", f"o{ifan}-active": "y", **change},
        )
        assert response.status_code == 403
    assert login(client.application.test_client(), "ifan").status_code == 302


def test_a_supervisor_creates_and_promotes_and_each_grant_is_audited(
    client: FlaskClient, rt: Runtime
) -> None:
    signed_in(client, rt, "huw", OfficerRole.SUPERVISOR)
    assert post(client, "/console/accounts", _new_account("officer")).status_code == 302
    ifan = _officer(rt, "ifan")
    promoted = post(
        client,
        f"/console/accounts/{ifan.id}",
        {f"o{ifan.id}-role": "supervisor", f"o{ifan.id}-active": "y"},
    )
    assert promoted.status_code == 302
    assert _officer(rt, "ifan").role is OfficerRole.SUPERVISOR
    # A supervisor grants no admin role (accounts are the admins').
    assert post(client, "/console/accounts", _new_account("admin", "rhys")).status_code == 403
    details = [e.detail for e in _audited(rt, AuditAction.CREATE_OFFICER)]
    assert "created ifan (officer)" in details
    changes = [(e.actor, e.detail) for e in _audited(rt, AuditAction.CHANGE_OFFICER)]
    assert ("huw", "ifan: role=supervisor") in changes


def test_an_admin_deactivates_and_that_ends_the_officers_sessions(
    app: Flask, client: FlaskClient, rt: Runtime
) -> None:
    ifan = make_officer(rt, "ifan")
    officer_browser = app.test_client()
    assert login(officer_browser, "ifan").status_code == 302
    assert officer_browser.get("/console/queue").status_code == 200
    signed_in(client, rt, "elen", OfficerRole.ADMIN)
    locked = post(client, f"/console/accounts/{ifan}", {f"o{ifan}-role": "officer"})
    assert locked.status_code == 302
    ended = officer_browser.get("/console/queue", follow_redirects=True)
    assert "deactivated" in ended.get_data(as_text=True)
    assert login(app.test_client(), "ifan").status_code == 401
    details = [e.detail for e in _audited(rt, AuditAction.CHANGE_OFFICER)]
    assert "ifan: deactivated, 1 session(s) ended" in details


def test_the_command_line_may_grant_any_role(app: Flask, rt: Runtime) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "officers",
            "create",
            "huw",
            "--name",
            "Sgt Huw Bevan",
            "--role",
            "supervisor",
            "--password",
            "a long enough passphrase",
        ],
    )
    assert result.exit_code == 0, result.output
    assert [e.actor for e in _audited(rt, AuditAction.CREATE_OFFICER)] == ["cli"]
