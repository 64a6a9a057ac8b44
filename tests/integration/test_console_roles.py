"""Each role is refused what it may not do, with 403 (not a hidden link); and an officer
sees only the queue, their conversations and the cases they are on."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from models import OfficerRole
from services.runtime import Runtime
from tests.support.console import login, make_officer, post, signed_in, waiting_victim

MEGAN = "+447700900401"
GWEN = "+447700900402"

OFFICER, SUPERVISOR, ADMIN = OfficerRole.OFFICER, OfficerRole.SUPERVISOR, OfficerRole.ADMIN

# (method, url, roles allowed). {c}: a waiting conversation, {h}: its handoff, {v}: victim.
ROUTES = [
    ("GET", "/console/queue", {OFFICER, SUPERVISOR}),
    ("GET", "/console/queue/items", {OFFICER, SUPERVISOR}),
    ("GET", "/console/cases", {OFFICER, SUPERVISOR}),
    ("GET", "/console/conversations/{c}", {OFFICER, SUPERVISOR}),
    ("GET", "/console/conversations/{c}/transcript", {OFFICER, SUPERVISOR}),
    ("GET", "/console/cases/CR-CONSOLE-1", {SUPERVISOR}),  # an officer is not on it yet
    ("GET", "/console/victims/{v}", {OFFICER, SUPERVISOR}),  # in the queue
    ("GET", "/console/audit", {SUPERVISOR}),
    ("GET", "/console/audit.csv", {SUPERVISOR}),
    ("GET", "/console/reports/compliance", {SUPERVISOR}),
    ("GET", "/console/requests", {SUPERVISOR}),
    ("GET", "/console/victims/{v}/export", {SUPERVISOR}),
    ("GET", "/console/victims/{v}/export.json", {SUPERVISOR}),
    ("GET", "/console/victims/{v}/erase", {SUPERVISOR}),
    ("POST", "/console/cases/CR-CONSOLE-1/officers", {SUPERVISOR}),
    ("GET", "/console/password", {OFFICER, SUPERVISOR, ADMIN}),
    # Admins keep admins' accounts; supervisors officers' and supervisors'.
    ("GET", "/console/accounts", {SUPERVISOR, ADMIN}),
    ("POST", "/console/accounts", {SUPERVISOR, ADMIN}),
    ("POST", "/console/accounts/1", {SUPERVISOR, ADMIN}),
    ("POST", "/console/cases", {OFFICER, SUPERVISOR}),
    ("POST", "/console/conversations/{c}/notes", {OFFICER, SUPERVISOR}),
    # Protection is decided by an officer on the victim's case (test_console_protection.py);
    # this officer only sees the victim through the queue.
    ("POST", "/console/victims/{v}/identity/unlock", {SUPERVISOR}),
    ("POST", "/console/victims/{v}/requests/999/refuse", {SUPERVISOR}),  # 404
    ("POST", "/console/victims/{v}/settings", {OFFICER, SUPERVISOR}),  # 400: no fields
    ("POST", "/console/handoffs/{h}/claim", {OFFICER, SUPERVISOR}),
]


@pytest.mark.parametrize("role", list(OfficerRole))
def test_each_role_is_refused_what_it_may_not_do(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, role: OfficerRole
) -> None:
    conversation_id, handoff_id = waiting_victim(client, auth, rt, MEGAN)
    with rt.db.session() as session:
        from models import Conversation

        victim_id = session.get_one(Conversation, conversation_id).victim_id
    signed_in(client, rt, "someone", role)
    for method, template, allowed in ROUTES:
        url = template.format(c=conversation_id, h=handoff_id, v=victim_id)
        if method == "GET":
            status = client.get(url).status_code
        else:
            status = post(client, url, {"note": "checking", "case_ref": "CR-ROLE"}).status_code
        if role in allowed:
            assert status != 403, f"{role} {method} {url}"
            assert status < 500, f"{role} {method} {url}: {status}"
        else:
            assert status == 403, f"{role} {method} {url}: {status}, not 403"


def test_an_officer_sees_another_officers_conversation_only_as_supervisor(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, app: object
) -> None:
    conversation_id, handoff_id = waiting_victim(client, auth, rt, MEGAN)
    make_officer(rt, "alys")
    make_officer(rt, "ifan")
    make_officer(rt, "huw", OfficerRole.SUPERVISOR)
    login(client, "alys")
    assert post(client, f"/console/handoffs/{handoff_id}/claim").status_code == 302
    post(client, "/console/logout")

    # Ifan is not on the case, and the conversation has left the queue.
    login(client, "ifan")
    assert client.get(f"/console/conversations/{conversation_id}").status_code == 403
    assert client.get("/console/cases/CR-CONSOLE-1").status_code == 403
    reply = post(client, f"/console/conversations/{conversation_id}/reply", {"body": "hi"})
    assert reply.status_code == 403
    assert post(client, f"/console/conversations/{conversation_id}/hand-back").status_code == 403
    post(client, "/console/logout")

    # Alys claimed the conversation, and has it: not the case (services/console/access.py).
    login(client, "alys")
    assert client.get(f"/console/conversations/{conversation_id}").status_code == 200
    assert client.get("/console/cases/CR-CONSOLE-1").status_code == 403
    post(client, "/console/logout")
    login(client, "huw")
    assert client.get(f"/console/conversations/{conversation_id}").status_code == 200
    assert client.get("/console/cases/CR-CONSOLE-1").status_code == 200


def test_nav_shows_only_what_the_role_may_use(client: FlaskClient, rt: Runtime) -> None:
    signed_in(client, rt, "alys", OFFICER)
    page = client.get("/console/queue").get_data(as_text=True)
    assert "/console/queue" in page and "/console/audit" not in page
    assert "/console/accounts" not in page
