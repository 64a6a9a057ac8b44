"""Console sign-in: hashed passwords, lock after 5 failures, idle timeout, CSRF, the CLI."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from models import AuditAction, AuditEvent, Officer, OfficerRole, utcnow
from services.casework import demo
from services.runtime import Runtime
from services.settings import Settings
from tests.support.console import PASSWORD, csrf_token, login, make_officer, post
from webhooks import create_app

# Both databases: the failed sign-in counter is one SQL increment.
pytestmark = pytest.mark.both_databases


def _officer(rt: Runtime, username: str) -> Officer:
    with rt.db.session() as session:
        officer = session.scalar(select(Officer).where(Officer.username == username))
        assert officer is not None
        return officer


def _actions(rt: Runtime) -> list[str]:
    with rt.db.session() as session:
        return [e.action.value for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_password_is_stored_as_a_modern_hash(rt: Runtime) -> None:
    make_officer(rt, "alys")
    stored = _officer(rt, "alys").password_hash
    assert stored.startswith("scrypt:") and PASSWORD not in stored


def test_sign_in_and_out(client: FlaskClient, rt: Runtime) -> None:
    make_officer(rt, "alys")
    assert client.get("/console/queue").status_code == 302  # to the login page
    response = login(client, "alys")
    assert response.status_code == 302 and response.headers["Location"] == "/console/queue"
    assert client.get("/console/queue").status_code == 200
    assert post(client, "/console/logout").status_code == 302
    assert client.get("/console/queue").headers["Location"].startswith("/console/login")
    assert _actions(rt) == ["create_officer", "login", "logout"]


def test_wrong_password_and_unknown_name_are_refused_alike(
    client: FlaskClient, rt: Runtime
) -> None:
    make_officer(rt, "alys")
    wrong = login(client, "alys", "not the password at all")
    unknown = login(client, "nobody", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert b"Wrong username or password" in wrong.data and b"Wrong username" in unknown.data
    with rt.db.session() as session:
        failed = session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.LOGIN_FAILED)
        ).all()
        assert [e.actor for e in failed] == ["alys", "nobody"]


def test_five_failures_lock_the_account_for_fifteen_minutes(
    client: FlaskClient, rt: Runtime
) -> None:
    make_officer(rt, "alys")
    for _ in range(5):
        assert login(client, "alys", "wrong password 123").status_code == 401
    locked = login(client, "alys")  # the right password, but locked
    assert locked.status_code == 401 and b"locked" in locked.data
    officer = _officer(rt, "alys")
    assert officer.locked_until is not None
    minutes = (officer.locked_until - utcnow()).total_seconds() / 60
    assert 14 < minutes <= 15
    # Fifteen minutes later the right password works again.
    with rt.db.session() as session:
        session.get_one(Officer, officer.id).locked_until = utcnow() - dt.timedelta(seconds=1)
    assert login(client, "alys").status_code == 302


def test_four_failures_then_success_reset_the_count(client: FlaskClient, rt: Runtime) -> None:
    make_officer(rt, "alys")
    for _ in range(4):
        login(client, "alys", "wrong password 123")
    assert login(client, "alys").status_code == 302
    assert _officer(rt, "alys").failed_logins == 0


def test_idle_session_times_out(settings: Settings) -> None:
    app = create_app(dataclasses.replace(settings, console_idle_minutes=5), TESTING=True)
    try:
        client = app.test_client()
        make_officer(app.extensions["runtime"], "alys")
        login(client, "alys")
        assert client.get("/console/queue").status_code == 200
        with client.session_transaction() as session:
            session["seen"] = session["seen"] - 5 * 60 - 1
        expired = client.get("/console/queue")
        assert expired.status_code == 302 and "/console/login" in expired.headers["Location"]
        assert client.get("/console/queue").status_code == 302  # signed out for good
    finally:
        app.extensions["runtime"].close()


def test_live_updates_do_not_keep_an_idle_session_alive(client: FlaskClient, rt: Runtime) -> None:
    make_officer(rt, "alys")
    login(client, "alys")
    with client.session_transaction() as session:
        before = session["seen"]
    assert client.get("/console/queue/items", headers={"X-Console-Poll": "1"}).status_code == 200
    with client.session_transaction() as session:
        assert session["seen"] == before


@pytest.mark.parametrize(
    "url", ["/console/login", "/console/logout", "/console/cases", "/console/handoffs/1/claim"]
)
def test_a_form_without_its_csrf_token_is_refused(
    client: FlaskClient, rt: Runtime, url: str
) -> None:
    make_officer(rt, "alys")
    login(client, "alys")
    response = client.post(url, data={"username": "alys", "password": PASSWORD})
    assert response.status_code == 400 and b"expired" in response.data


def test_login_form_carries_a_csrf_token(client: FlaskClient) -> None:
    assert len(csrf_token(client)) > 20


def test_open_redirect_after_login_is_refused(client: FlaskClient, rt: Runtime) -> None:
    make_officer(rt, "alys")
    token = csrf_token(client)
    response = client.post(
        "/console/login?next=https://example.invalid/",
        data={"username": "alys", "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/console/queue"


def test_cli_creates_an_officer_who_can_sign_in(app: Flask, client: FlaskClient) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["officers", "create", "huw", "--name", "Sgt Huw Bevan", "--role", "supervisor"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "created huw (supervisor)" in result.output
    listed = runner.invoke(args=["officers", "list"]).output
    assert "huw\tsupervisor\tSgt Huw Bevan\tactive" in listed
    assert login(client, "huw").status_code == 302
    short = runner.invoke(args=["officers", "create", "x1", "--name", "X", "--password", "short"])
    assert short.exit_code != 0 and "12 characters" in short.output


def test_cli_unlocks_a_locked_officer(app: Flask, client: FlaskClient, rt: Runtime) -> None:
    make_officer(rt, "alys")
    for _ in range(5):
        login(client, "alys", "wrong password 123")
    assert app.test_cli_runner().invoke(args=["officers", "unlock", "alys"]).exit_code == 0
    assert login(client, "alys").status_code == 302


def test_demo_data_creates_an_officer_per_role(rt: Runtime, client: FlaskClient) -> None:
    with rt.db.session() as session:
        assert demo.ensure(session, "demo-password-for-tests")
        assert not demo.ensure(session, "demo-password-for-tests")
    roles = {_officer(rt, u).role for u, _, _ in demo.DEMO_OFFICERS}
    assert roles == set(OfficerRole)
    assert login(client, "demo.officer", "demo-password-for-tests").status_code == 302
