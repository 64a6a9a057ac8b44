"""Console sign-in: hashed passwords, one message for every failure, throttling by account and
address (parallel requests too), the second factor, sessions ended on the server, CSRF, the
CLI."""

from __future__ import annotations

import dataclasses
import threading

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from models import AuditAction, AuditEvent, Officer, OfficerRole, OfficerSession, utcnow
from services.casework import demo
from services.console import officers
from services.runtime import Runtime
from services.settings import Settings
from tests.support.clock import FakeClock
from tests.support.console import (
    PASSWORD,
    csrf_token,
    login,
    make_officer,
    post,
    totp_code,
)
from webhooks import create_app
from webhooks.console.blueprint import SESSION_TOKEN

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


def _failures(rt: Runtime) -> list[str]:
    with rt.db.session() as session:
        return [
            e.detail
            for e in session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == AuditAction.LOGIN_FAILED)
                .order_by(AuditEvent.id)
            )
        ]


def _page_text(response: object) -> str:
    return response.get_data(as_text=True)  # type: ignore[attr-defined]


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
    assert _actions(rt) == ["create_officer", "login", "view_queue", "logout"]


FAILURES = {
    "unknown name": ("nobody", PASSWORD, None),
    "wrong password": ("alys", "not the password at all", None),
    "wrong code": ("alys", PASSWORD, "000000"),
    "no code": ("alys", PASSWORD, ""),
    "deactivated": ("ifan", PASSWORD, None),
}


def test_every_failure_gets_the_same_answer(client: FlaskClient, rt: Runtime) -> None:
    make_officer(rt, "alys")
    ifan = make_officer(rt, "ifan")
    with rt.db.session() as session:
        session.get_one(Officer, ifan).active = False
    answers = set()
    for username, password, code in FAILURES.values():
        response = login(client, username, password, code=code)
        assert response.status_code == 401
        answers.add(_page_text(response).split('<div class="flash"')[1].split("</div>")[0])
    # A paused account (after repeated failures) answers the same words too.
    for _ in range(6):
        paused = login(client, "alys", "wrong password 123")
    answers.add(_page_text(paused).split('<div class="flash"')[1].split("</div>")[0])
    assert len(answers) == 1, answers
    assert officers.FAILED in answers.pop()
    # Each is audited with its real reason, for the supervisors.
    details = _failures(rt)
    assert [d.split(" from ")[0] for d in details[:5]] == [
        "unknown",
        "wrong password",
        "wrong code",
        "wrong code",
        "inactive",
    ]
    assert any(d.startswith("paused (pair)") for d in details)


def test_five_failures_pause_the_name_from_that_address_only(
    client: FlaskClient, rt: Runtime, clock: FakeClock
) -> None:
    make_officer(rt, "alys")
    for _ in range(5):
        assert login(client, "alys", "wrong password 123").status_code == 401
    assert login(client, "alys").status_code == 401  # the right password: paused
    # The same officer at her own desk (another address) is not locked out by that.
    elsewhere = client.application.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    assert login(elsewhere, "alys").status_code == 302
    # After the pause (15 minutes), the first address may try again.
    clock.advance(minutes=15, seconds=1)
    assert login(client, "alys").status_code == 302


def test_the_pause_doubles_at_each_strike(
    client: FlaskClient, rt: Runtime, clock: FakeClock
) -> None:
    make_officer(rt, "alys")
    for minutes in (15, 30):
        for _ in range(5):
            login(client, "alys", "wrong password 123")
        assert login(client, "alys").status_code == 401
        clock.advance(minutes=minutes - 1)
        assert login(client, "alys").status_code == 401, f"free before {minutes} minutes"
        clock.advance(minutes=1, seconds=1)
    assert login(client, "alys").status_code == 302


def test_one_address_trying_many_names_is_paused(
    client: FlaskClient, rt: Runtime, clock: FakeClock
) -> None:
    make_officer(rt, "alys")
    for i in range(20):
        login(client, f"guess{i}", "wrong password 123")
    # Even the right name and password from that address wait now.
    assert login(client, "alys").status_code == 401
    clock.advance(minutes=15, seconds=1)
    assert login(client, "alys").status_code == 302


def test_a_success_resets_the_count(client: FlaskClient, rt: Runtime) -> None:
    make_officer(rt, "alys")
    for _ in range(4):
        login(client, "alys", "wrong password 123")
    assert login(client, "alys").status_code == 302
    post(client, "/console/logout")
    for _ in range(4):
        login(client, "alys", "wrong password 123")
    assert login(client, "alys").status_code == 302


def test_parallel_guesses_get_no_more_tries_than_the_limit(app: Flask, rt: Runtime) -> None:
    """Twenty wrong passwords at once from one address: at most five are even checked."""
    make_officer(rt, "alys")
    clients = [app.test_client() for _ in range(20)]
    tokens = [csrf_token(c) for c in clients]
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def guess(c: FlaskClient, token: str) -> None:
        barrier.wait()
        response = c.post(
            "/console/login",
            data={"username": "alys", "password": "wrong guess 1234", "csrf_token": token},
        )
        statuses.append(response.status_code)

    pairs = zip(clients, tokens, strict=True)
    threads = [threading.Thread(target=guess, args=pair) for pair in pairs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert statuses == [401] * 20
    checked = [d for d in _failures(rt) if d.startswith("wrong password")]
    paused = [d for d in _failures(rt) if d.startswith("paused")]
    assert len(checked) == 5 and len(paused) == 15


def test_a_code_is_accepted_once_only(client: FlaskClient, rt: Runtime) -> None:
    make_officer(rt, "alys")
    code = totp_code(rt, "alys")
    assert login(client, "alys", code=code).status_code == 302
    post(client, "/console/logout")
    # The same code again (RFC 6238, 5.2): refused, even with the right password.
    assert login(client, "alys", code=code).status_code == 401
    assert _failures(rt)[-1].startswith("wrong code")


def test_a_recovery_code_signs_in_once(client: FlaskClient, rt: Runtime) -> None:
    make_officer(rt, "alys", enrolled=False)
    codes = _enrol(client, rt, "alys")
    post(client, "/console/logout")
    assert login(client, "alys", code=codes[3].upper()).status_code == 302
    post(client, "/console/logout")
    assert login(client, "alys", code=codes[3]).status_code == 401
    assert "recovery code" in _last_login_detail(rt)


def _last_login_detail(rt: Runtime) -> str:
    with rt.db.session() as session:
        event = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == AuditAction.LOGIN)
            .order_by(AuditEvent.id.desc())
        ).first()
        assert event is not None
        return event.detail


def _enrol(client: FlaskClient, rt: Runtime, username: str) -> list[str]:
    """Sign in for the first time, scan the key (read from the page) and confirm a code."""
    first = login(client, username, code="")
    assert first.status_code == 302 and first.headers["Location"] == "/console/enrol"
    page = _page_text(client.get("/console/enrol"))
    assert "<svg" in page  # the QR code, inline (no image from elsewhere)
    secret = page.split('id="totp-secret">')[1].split("<")[0]
    code = pyotp.TOTP(secret).at(utcnow())
    done = client.post(
        "/console/enrol", data={"code": code, "csrf_token": csrf_token(client, "/console/enrol")}
    )
    assert done.status_code == 200, _page_text(done)
    codes = _page_text(done).split('id="recovery-codes">')[1].split("</ol>")[0]
    found = [part.split("</code>")[0] for part in codes.split("<code>")[1:]]
    assert len(found) == 10
    return found


def test_first_sign_in_enrols_the_second_factor(client: FlaskClient, rt: Runtime) -> None:
    make_officer(rt, "ifan", enrolled=False)
    # Before enrolment nothing but the enrolment page is open.
    assert login(client, "ifan", code="").headers["Location"] == "/console/enrol"
    assert client.get("/console/queue").status_code == 302
    _enrol(client, rt, "ifan")
    assert client.get("/console/queue").status_code == 200
    officer = _officer(rt, "ifan")
    assert officer.totp_enrolled_at is not None
    assert "enrol_second_factor" in _actions(rt)
    post(client, "/console/logout")
    # From now on a code is needed.
    assert login(client, "ifan", code="").status_code == 401
    assert login(client, "ifan").status_code == 302


def test_a_wrong_enrolment_code_is_refused(client: FlaskClient, rt: Runtime) -> None:
    make_officer(rt, "ifan", enrolled=False)
    login(client, "ifan", code="")
    client.get("/console/enrol")
    refused = client.post(
        "/console/enrol",
        data={"code": "123456", "csrf_token": csrf_token(client, "/console/enrol")},
    )
    assert refused.status_code == 400
    assert client.get("/console/queue").status_code == 302
    assert _officer(rt, "ifan").totp_enrolled_at is None


def test_demo_accounts_skip_the_second_factor_only_in_development(
    settings: Settings, rt: Runtime, client: FlaskClient
) -> None:
    with rt.db.session() as session:
        assert demo.ensure(session, "demo password for the tests 1")
        assert not demo.ensure(session, "demo password for the tests 1")
    roles = {_officer(rt, u).role for u, _, _ in demo.DEMO_OFFICERS}
    assert roles == set(OfficerRole)
    assert login(client, "demo.officer", "demo password for the tests 1").status_code == 302
    # In production a demo account does not sign in at all, code or none.
    production = create_app(dataclasses.replace(settings, production=True), TESTING=True)
    try:
        other = production.test_client()
        refused = login(other, "demo.officer", "demo password for the tests 1")
        assert refused.status_code == 401
        assert _failures(rt)[-1].startswith("demo account in production")
    finally:
        production.extensions["runtime"].close()


def test_a_common_password_is_refused(rt: Runtime) -> None:
    with rt.db.session() as session:
        for common in ("password1234", "Password1234", "qwertyuiop123", "iloveyou12345"):
            with pytest.raises(officers.InvalidField, match="common"):
                officers.create(session, "alys", "PC Alys", "officer", common)
        with pytest.raises(officers.InvalidField, match="username"):
            officers.create(session, "alys", "PC Alys", "officer", "alys-is-my-name-1")


def test_sign_out_ends_the_session_on_the_server(app: Flask, rt: Runtime) -> None:
    """A copy of the session cookie is worth nothing once its owner signs out; nor is a
    session of theirs left open on another computer."""
    make_officer(rt, "alys")
    browser, other_desk = app.test_client(), app.test_client()
    login(browser, "alys")
    login(other_desk, "alys")
    copied = browser.get_cookie("session")
    assert copied is not None
    thief = app.test_client()
    thief.set_cookie("session", copied.value)
    assert thief.get("/console/queue").status_code == 200
    post(browser, "/console/logout")
    assert thief.get("/console/queue").status_code == 302
    assert other_desk.get("/console/queue").status_code == 302


@pytest.mark.parametrize(
    "change",
    [
        {"password": "a brand new passphrase"},
        {"role": OfficerRole.SUPERVISOR},
        {"active": False},
        {"reset_second_factor": True},
    ],
)
def test_an_account_change_ends_every_session_of_that_officer(
    app: Flask, rt: Runtime, change: dict[str, object]
) -> None:
    make_officer(rt, "alys")
    browsers = [app.test_client(), app.test_client()]
    for b in browsers:
        assert login(b, "alys").status_code == 302
    with rt.db.session() as session:
        officers.change(session, session.get_one(Officer, _officer(rt, "alys").id), None, **change)  # type: ignore[arg-type]
    for b in browsers:
        assert b.get("/console/queue").status_code == 302
    with rt.db.session() as session:
        still_open = session.scalar(
            select(func.count())
            .select_from(OfficerSession)
            .where(OfficerSession.ended_at.is_(None))
        )
    assert still_open == 0


def test_own_password_change_ends_every_session(app: Flask, rt: Runtime) -> None:
    make_officer(rt, "alys")
    mine, other = app.test_client(), app.test_client()
    login(mine, "alys")
    login(other, "alys")
    token = csrf_token(mine, "/console/password")
    changed = mine.post(
        "/console/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a brand new passphrase",
            "confirm": "a brand new passphrase",
            "csrf_token": token,
        },
    )
    assert changed.status_code == 302
    assert mine.get("/console/queue").status_code == 302
    assert other.get("/console/queue").status_code == 302
    assert login(mine, "alys", "a brand new passphrase").status_code == 302


def test_idle_session_times_out(settings: Settings, clock: FakeClock) -> None:
    app = create_app(dataclasses.replace(settings, console_idle_minutes=5), TESTING=True)
    try:
        client = app.test_client()
        make_officer(app.extensions["runtime"], "alys")
        login(client, "alys")
        assert client.get("/console/queue").status_code == 200
        clock.advance(minutes=5, seconds=1)
        expired = client.get("/console/queue")
        assert expired.status_code == 302 and "/console/login" in expired.headers["Location"]
        assert client.get("/console/queue").status_code == 302  # signed out for good
    finally:
        app.extensions["runtime"].close()


def test_a_session_ends_after_its_maximum_length_however_busy(
    settings: Settings, clock: FakeClock
) -> None:
    app = create_app(dataclasses.replace(settings, console_max_hours=12), TESTING=True)
    try:
        client = app.test_client()
        make_officer(app.extensions["runtime"], "alys")
        login(client, "alys")
        for _ in range(12 * 4 - 1):  # busy every quarter of an hour for 12 hours
            clock.advance(minutes=15)
            assert client.get("/console/queue").status_code == 200
        clock.advance(minutes=15)
        ended = client.get("/console/queue", follow_redirects=True)
        assert "maximum length" in _page_text(ended)
    finally:
        app.extensions["runtime"].close()


def test_live_updates_do_not_keep_an_idle_session_alive(
    client: FlaskClient, rt: Runtime, clock: FakeClock
) -> None:
    make_officer(rt, "alys")
    login(client, "alys")
    for _ in range(7):
        clock.advance(minutes=5)
        client.get("/console/queue/items", headers={"X-Console-Poll": "1"})
    polled = client.get("/console/queue/items", headers={"X-Console-Poll": "1"})
    assert polled.status_code == 401  # 35 minutes of polling alone: idle


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
        data={
            "username": "alys",
            "password": PASSWORD,
            "code": totp_code(rt, "alys"),
            "csrf_token": token,
        },
    )
    assert response.headers["Location"] == "/console/queue"


def test_the_session_cookie_holds_no_officer_secret(client: FlaskClient, rt: Runtime) -> None:
    make_officer(rt, "alys")
    login(client, "alys")
    with client.session_transaction() as session:
        assert isinstance(session[SESSION_TOKEN], str)
    with rt.db.session() as db:
        stored = db.scalars(select(OfficerSession.token_hash)).all()
    assert stored and all(len(h) == 64 for h in stored)


def test_cli_creates_an_officer_who_can_sign_in(app: Flask, client: FlaskClient) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["officers", "create", "huw", "--name", "Sgt Huw Bevan", "--role", "supervisor"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "created huw (supervisor)" in result.output
    listed = runner.invoke(args=["officers", "list"]).output
    assert "huw\tsupervisor\tSgt Huw Bevan\tactive, no second factor yet" in listed
    assert login(client, "huw", code="").headers["Location"] == "/console/enrol"
    short = runner.invoke(args=["officers", "create", "x1", "--name", "X", "--password", "short"])
    assert short.exit_code != 0 and "12 characters" in short.output
    common = runner.invoke(
        args=["officers", "create", "x2", "--name", "X", "--password", "password1234"]
    )
    assert common.exit_code != 0 and "common" in common.output


def test_cli_lifts_a_pause_and_resets_a_second_factor(
    app: Flask, client: FlaskClient, rt: Runtime
) -> None:
    make_officer(rt, "alys")
    for _ in range(6):
        login(client, "alys", "wrong password 123")
    assert "sign-in paused until" in app.test_cli_runner().invoke(args=["officers", "list"]).output
    assert app.test_cli_runner().invoke(args=["officers", "unlock", "alys"]).exit_code == 0
    assert login(client, "alys").status_code == 302
    reset = app.test_cli_runner().invoke(args=["officers", "reset-second-factor", "alys"])
    assert reset.exit_code == 0
    assert client.get("/console/queue").status_code == 302  # her session ended
    assert login(client, "alys", code="").headers["Location"] == "/console/enrol"
