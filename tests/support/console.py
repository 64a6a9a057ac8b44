"""Helpers for console tests: officers in the database, and a browser-like test client that
signs in and carries the CSRF token as a real form would."""

from __future__ import annotations

import re
from typing import Any

import pyotp
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from models import Officer, OfficerRole, utcnow
from services.console import officers, second_factor
from services.runtime import Runtime

PASSWORD = "correct horse battery staple"
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def make_officer(
    rt: Runtime,
    username: str,
    role: OfficerRole | str = OfficerRole.OFFICER,
    name: str = "",
    enrolled: bool = True,
) -> int:
    """An officer (made as the command line makes one), with a second factor already set up
    unless `enrolled` is False (then they enrol at their first sign-in)."""
    with rt.db.session() as session:
        officer = officers.create(
            session, username, name or f"PC {username.title()}", role, PASSWORD
        )
        if enrolled:
            second_factor.begin(officer)
            officer.totp_enrolled_at = utcnow()
        return officer.id


def totp_code(rt: Runtime, username: str) -> str:
    """A code the officer's authenticator would show now, one not used yet.

    The service accepts the current 30-second step and one either side, each once. A test
    that signs the same officer in more often than that within half a minute is given a
    fresh start, as a new step would give it (the replay rule has its own tests).
    """
    with rt.db.session() as session:
        officer = session.scalar(select(Officer).where(Officer.username == username))
        assert officer is not None and officer.totp_secret is not None
        now = int(utcnow().timestamp()) // 30
        # Never the step before now: were the clock to cross into the next step before the
        # code is checked, that one would have left the window.
        last = officer.totp_last_step
        step = now if last is None else max(last + 1, now)
        if step > now + 1:
            officer.totp_last_step, step = None, now
        return pyotp.TOTP(officer.totp_secret).generate_otp(step)


def csrf_token(client: FlaskClient, page: str = "/console/login") -> str:
    """The CSRF token of the client's session, read from a page as a browser would."""
    html = client.get(page, follow_redirects=True).get_data(as_text=True)
    match = TOKEN.search(html)
    assert match, f"no CSRF token on {page}"
    return match.group(1) or match.group(2)


def login(
    client: FlaskClient,
    username: str,
    password: str = PASSWORD,
    code: str | None = None,
    rt: Runtime | None = None,
) -> TestResponse:
    """Sign in as a browser would; the code is the officer's current one unless given."""
    if code is None:
        runtime = rt or client.application.extensions["runtime"]
        code = _code_if_enrolled(runtime, username)
    return client.post(
        "/console/login",
        data={
            "username": username,
            "password": password,
            "code": code,
            "csrf_token": csrf_token(client),
        },
    )


def _code_if_enrolled(rt: Runtime, username: str) -> str:
    with rt.db.session() as session:
        officer = session.scalar(select(Officer).where(Officer.username == username))
        enrolled = officer is not None and second_factor.enrolled(officer)
    return totp_code(rt, username) if enrolled else ""


def post(client: FlaskClient, url: str, data: dict[str, Any] | None = None) -> TestResponse:
    """A console form POST with the session's CSRF token."""
    token = csrf_token(client, "/console/")
    return client.post(url, data={**(data or {}), "csrf_token": token})


def signed_in(client: FlaskClient, rt: Runtime, username: str, role: OfficerRole | str) -> int:
    officer_id = make_officer(rt, username, role)
    response = login(client, username)
    assert response.status_code == 302, response.get_data(as_text=True)
    return officer_id


def waiting_victim(
    client: FlaskClient,
    auth: dict[str, str],
    rt: Runtime,
    phone: str,
    case_ref: str = "CR-CONSOLE-1",
    priority: str = "high",
    reason: str = "asked for an officer",
    **victim: Any,
) -> tuple[int, int]:
    """A registered victim (quiet hours now, so no welcome goes) whose conversation waits
    for an officer: (conversation id, handoff id)."""
    from models import Conversation, HandoffPriority
    from models.cases import Channel, channel_address
    from services.console import handoffs
    from tests.support.factories import new_case, new_victim, quiet_hours_covering_now

    if case_ref not in _cases(rt):
        new_case(client, auth, case_ref)
    channel = Channel(victim.get("channel", "sms"))
    victim_id = new_victim(
        client, auth, case_ref, phone=phone, quiet_hours=quiet_hours_covering_now(), **victim
    )
    with rt.db.session() as session:
        conversation = Conversation(
            address=channel_address(channel, phone), channel=channel, victim_id=victim_id
        )
        session.add(conversation)
        session.flush()
        handoff = handoffs.open_handoff(session, conversation, HandoffPriority(priority), reason)
        return conversation.id, handoff.id


def _cases(rt: Runtime) -> set[str]:
    from sqlalchemy import select

    from models import Case

    with rt.db.session() as session:
        return set(session.scalars(select(Case.case_ref)))


def put_on_case(rt: Runtime, username: str, case_ref: str = "CR-CONSOLE-1") -> None:
    """Put an officer on a case, as a supervisor does in the console (the officer then sees
    the case's victims: services/console/access.py)."""
    from sqlalchemy import select

    from models import Case, Officer
    from services.console import access

    with rt.db.session() as session:
        officer = session.scalars(select(Officer).where(Officer.username == username)).one()
        case = session.scalars(select(Case).where(Case.case_ref == case_ref)).one()
        access.put_on_case(session, officer, case.id)
