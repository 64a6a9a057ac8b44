"""The API with named tokens: one per case system, stored hashed, each with scopes; every call
audited under its name, refusals included; API_TOKEN still works as one named client."""

from __future__ import annotations

import hashlib

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from models import ApiClient, AuditAction, AuditEvent
from services.console import api_clients
from services.runtime import Runtime
from tests.support.factories import VICTIM, new_case, new_victim, quiet_hours_covering_now
from webhooks import bearer

# Every endpoint of /api, with the scope it needs; {c} is a case reference.
ENDPOINTS = [
    ("POST", "/api/cases", "cases:write"),
    ("POST", "/api/cases/{c}/victims", "cases:write"),
    ("POST", "/api/cases/{c}/events", "cases:write"),
    ("POST", "/api/cases/{c}/scheduled-updates", "cases:write"),
    ("GET", "/api/cases/{c}/scheduled-updates", "cases:read"),
    ("GET", "/api/cases/{c}/scheduled-updates/1", "cases:read"),
    ("PATCH", "/api/cases/{c}/scheduled-updates/1", "cases:write"),
    ("DELETE", "/api/cases/{c}/scheduled-updates/1", "cases:write"),
    ("POST", "/api/cases/{c}/close", "cases:write"),
    ("GET", "/api/cases/{c}/notifications", "notifications:read"),
    ("GET", "/api/cases/{c}/referrals", "cases:read"),
    ("GET", "/api/referrals", "cases:read"),
    ("POST", "/api/referrals/1/sent", "cases:write"),
    ("GET", "/api/cases/{c}/reviews", "cases:read"),
    ("GET", "/api/handoffs?status=open", "handoffs:read"),
    ("GET", "/api/reports/compliance?from=2026-11-01&to=2026-11-30", "reports:read"),
]


def _token(rt: Runtime, name: str, *scopes: str) -> dict[str, str]:
    with rt.db.session() as session:
        token = api_clients.create(session, name, list(scopes))
    return {"Authorization": f"Bearer {token}"}


def _events(rt: Runtime, action: AuditAction | None = None) -> list[AuditEvent]:
    with rt.db.session() as session:
        query = select(AuditEvent).order_by(AuditEvent.id)
        if action is not None:
            query = query.where(AuditEvent.action == action)
        return list(session.scalars(query))


def _call(client: FlaskClient, method: str, url: str, headers: dict[str, str]) -> int:
    return client.open(url, method=method, json={}, headers=headers).status_code


def test_every_endpoint_declares_a_scope(app: Flask) -> None:
    """A new endpoint without `requires_scope` would be refused to every token; this says
    which one forgot, and that the table above names every endpoint."""
    api_views = {
        rule.endpoint: app.view_functions[rule.endpoint]
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
    }
    missing = [
        name for name, view in api_views.items() if not getattr(view, "required_scope", None)
    ]
    assert missing == []
    # Public: only the API's description, which serves nothing about anyone.
    public = [
        n for n, v in api_views.items() if getattr(v, "required_scope", None) == bearer.PUBLIC
    ]
    assert [app.view_functions[n].__name__ for n in public] == ["describe"]
    scoped = len(api_views) - len(public)
    assert scoped == len({(m, u.split("?")[0]) for m, u, _ in ENDPOINTS})


def test_metrics_need_the_metrics_scope(client: FlaskClient, rt: Runtime) -> None:
    others = [s for s in api_clients.SCOPES if s != "metrics:read"]
    assert client.get("/metrics", headers=_token(rt, "grafana", *others)).status_code == 403
    assert client.get("/metrics", headers=_token(rt, "prom", "metrics:read")).status_code == 200


@pytest.mark.parametrize(("method", "url", "scope"), ENDPOINTS)
def test_a_token_without_the_scope_is_refused_and_audited(
    client: FlaskClient, auth: dict[str, str], rt: Runtime, method: str, url: str, scope: str
) -> None:
    new_case(client, auth, "CR-SCOPE-1")
    others = [s for s in api_clients.SCOPES if s != scope]
    headers = _token(rt, "niche-rms", *others)
    assert _call(client, method, url.format(c="CR-SCOPE-1"), headers) == 403
    refused = _events(rt, AuditAction.REFUSED)
    assert [e.actor for e in refused] == ["api:niche-rms"]
    assert "403" in refused[0].detail
    # With the scope the same call gets past the check (its own answer may be 4xx).
    assert _call(client, method, url.format(c="CR-SCOPE-1"), _token(rt, "athena", scope)) != 403


def test_a_named_token_works_and_its_calls_are_audited_under_its_name(
    client: FlaskClient, rt: Runtime
) -> None:
    rms = _token(rt, "niche-rms", "cases:write", "notifications:read")
    new_case(client, rms, "CR-TOKEN-1")
    victim_id = new_victim(client, rms, "CR-TOKEN-1", quiet_hours=quiet_hours_covering_now())
    assert client.get("/api/cases/CR-TOKEN-1/notifications", headers=rms).status_code == 200
    calls = [(e.actor, e.action.value) for e in _events(rt) if e.actor.startswith("api:")]
    assert calls == [
        ("api:niche-rms", "register_case"),
        ("api:niche-rms", "register_victim"),
        ("api:niche-rms", "read_notifications"),
    ]
    registered = _events(rt, AuditAction.REGISTER_VICTIM)[0]
    assert registered.victim_id == victim_id and registered.case_id is not None
    with rt.db.session() as session:
        client_row = session.scalar(select(ApiClient).where(ApiClient.name == "niche-rms"))
        assert client_row is not None and client_row.last_used_at is not None


def test_tokens_are_stored_hashed(rt: Runtime) -> None:
    headers = _token(rt, "niche-rms", "cases:read")
    token = headers["Authorization"].split(" ", 1)[1]
    with rt.db.session() as session:
        stored = session.scalars(select(ApiClient.token_hash)).all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]


def test_api_token_is_one_named_client_with_every_scope(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    new_case(client, auth, "CR-ENV-1")
    assert client.get("/api/handoffs?status=open", headers=auth).status_code == 200
    actors = {e.actor for e in _events(rt) if e.actor.startswith("api:")}
    assert actors == {"api:API_TOKEN"}


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Bearer wrong-token",
        "Basic dGVzdC1hcGktdG9rZW4=",
        "Bearer t\u00e9st-api-t\u00f8ken",
        "Bearer \u2603\u2603\u2603",
        "Bearer test-api-token\u00a0",
    ],
)
def test_no_wrong_or_non_ascii_token_gets_in_and_each_attempt_is_audited(
    client: FlaskClient, rt: Runtime, header: str | None
) -> None:
    headers = {"Authorization": header} if header is not None else {}
    response = client.get("/api/handoffs?status=open", headers=headers)
    assert response.status_code == 401
    assert "error" in response.get_json()
    refused = _events(rt, AuditAction.REFUSED)
    assert [e.actor for e in refused] == ["api:unauthenticated"]


def test_a_revoked_token_stops_working_at_once(
    app: Flask, client: FlaskClient, rt: Runtime
) -> None:
    headers = _token(rt, "old-rms", "handoffs:read")
    assert client.get("/api/handoffs?status=open", headers=headers).status_code == 200
    result = app.test_cli_runner().invoke(args=["tokens", "revoke", "old-rms"])
    assert result.exit_code == 0, result.output
    assert client.get("/api/handoffs?status=open", headers=headers).status_code == 401


def test_the_tokens_cli(app: Flask, client: FlaskClient, rt: Runtime) -> None:
    runner = app.test_cli_runner()
    made = runner.invoke(
        args=["tokens", "create", "Athena", "--scope", "reports:read", "--scope", "handoffs:read"]
    )
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[0]
    assert token.startswith(api_clients.TOKEN_PREFIX)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/handoffs?status=open", headers=headers).status_code == 200
    assert client.post("/api/cases", json={}, headers=headers).status_code == 403
    listed = runner.invoke(args=["tokens", "list"]).output
    assert "athena\thandoffs:read reports:read" in listed and token not in listed
    unknown = runner.invoke(args=["tokens", "create", "x2", "--scope", "everything"])
    assert unknown.exit_code != 0
    again = runner.invoke(args=["tokens", "create", "athena", "--scope", "reports:read"])
    assert again.exit_code != 0 and "exists" in again.output
    scopes = runner.invoke(args=["tokens", "scopes"]).output
    assert all(s in scopes for s in api_clients.SCOPES)
    actions = [(e.actor, e.action.value) for e in _events(rt) if e.actor == "cli"]
    assert ("cli", "create_token") in actions


def test_a_request_body_over_the_limit_is_refused(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    big = {"case_ref": "CR-BIG", "crime_type": "x" * (300 * 1024), "officer_in_charge": "PC"}
    response = client.post("/api/cases", json=big, headers=auth)
    assert response.status_code == 413


def test_a_known_victims_wrong_date_of_birth_is_audited_and_throttled(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    """The API's 409 for a number that belongs to someone else names the victim in the
    audit trail; a sixth within a day pauses that client's registrations of known numbers."""
    new_case(client, auth, "CR-GUESS-1")
    victim_id = new_victim(client, auth, "CR-GUESS-1", quiet_hours=quiet_hours_covering_now())
    rms = _token(rt, "niche-rms", "cases:write")
    new_case(client, rms, "CR-GUESS-2")
    statuses = []
    for day in range(1, 8):
        guess = {**VICTIM, "date_of_birth": f"1984-03-{day:02d}"}
        statuses.append(
            client.post("/api/cases/CR-GUESS-2/victims", json=guess, headers=rms).status_code
        )
    # 1984-03-02 is the right date: it was the second guess, and it went through.
    assert statuses[:2] == [409, 201]
    assert statuses[2:6] == [409, 409, 409, 409]
    assert statuses[6] == 429
    refused = _events(rt, AuditAction.REFUSED)
    assert all(e.victim_id == victim_id and e.actor == "api:niche-rms" for e in refused)
    assert len(refused) == 6


def test_a_non_ascii_token_over_real_http_gets_401(live_server: object) -> None:
    """The issue's example: over HTTP the header's bytes arrive as they were sent (UTF-8
    here), and the answer is 401, not 500."""
    url = f"{live_server.url}/api/handoffs?status=open"  # type: ignore[attr-defined]
    for raw in ("Bearer t\u00e9st-\u2603".encode(), b"Bearer \xff\xfe\x00token"):
        response = requests.get(url, headers={"Authorization": raw}, timeout=10)
        assert response.status_code == 401, raw
        assert response.json()["error"]


def test_a_public_endpoint_needs_no_token(app: Flask) -> None:
    """`@public` (for a description of the API, say) is reached without a token; the
    marker is what authenticate() reads."""

    @bearer.public
    def described() -> dict[str, str]:
        return {"openapi": "3.1.0"}

    app.add_url_rule("/api/probe-public", "api.probe_public", described)
    client = app.test_client()
    assert client.get("/api/probe-public").status_code == 200
    assert client.get("/api/handoffs?status=open").status_code == 401
