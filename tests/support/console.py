"""Helpers for console tests: officers in the database, and a browser-like test client that
signs in and carries the CSRF token as a real form would."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from models import OfficerRole
from services.console import officers
from services.runtime import Runtime

PASSWORD = "correct horse battery staple"
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def make_officer(
    rt: Runtime, username: str, role: OfficerRole | str = OfficerRole.OFFICER, name: str = ""
) -> int:
    with rt.db.session() as session:
        officer = officers.create(
            session, username, name or f"PC {username.title()}", role, PASSWORD
        )
        return officer.id


def csrf_token(client: FlaskClient, page: str = "/console/login") -> str:
    """The CSRF token of the client's session, read from a page as a browser would."""
    html = client.get(page, follow_redirects=True).get_data(as_text=True)
    match = TOKEN.search(html)
    assert match, f"no CSRF token on {page}"
    return match.group(1) or match.group(2)


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> TestResponse:
    return client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": csrf_token(client)},
    )


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
