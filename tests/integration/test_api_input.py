"""Input a database cannot hold gets a clear 4xx naming it, never a 500, on both databases.

The kind of fault: a value the API let through that the database (or Python's calendar)
then refused, so the request failed with a 500 and what was sent was lost. PostgreSQL
refuses NUL in text, both refuse integers over their column's range, and UTC has no
form for a time at the very edge of the calendar. schemathesis found the first of these
(tests/integration/test_openapi_fuzz.py); these tests pin each one down.
"""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient

from tests.support.clock import FakeClock
from tests.support.factories import new_case, new_victim

pytestmark = pytest.mark.both_databases

CASE = {"case_ref": "CR-IN-1", "crime_type": "burglary", "officer_in_charge": "PC Ifan Rees"}
EVENT = {"type": "suspect_arrested", "occurred_at": "2026-12-01T10:00:00Z", "summary": "Arrested."}


def _post(client: FlaskClient, auth: dict[str, str], url: str, body: object) -> tuple[int, str]:
    # Serialised by hand: a lone surrogate must reach the server as the JSON escape "\ud800".
    response = client.post(
        url, data=json.dumps(body), content_type="application/json", headers=auth
    )
    return response.status_code, (response.get_json() or {}).get("error", "")


@pytest.mark.parametrize(
    "value",
    ["CR\x00-1", "CR-\x07", "\x1b[31mCR", "CR-\ud800"],
    ids=["nul", "bell", "escape", "lone-surrogate"],
)
def test_text_no_database_can_store_is_400_naming_the_field(
    client: FlaskClient, auth: dict[str, str], value: str
) -> None:
    status, error = _post(client, auth, "/api/cases", {**CASE, "case_ref": value})
    assert (status, error.split(":")[0]) == (400, "case_ref")
    status, error = _post(client, auth, "/api/cases", {**CASE, "officer_in_charge": value})
    assert (status, error.split(":")[0]) == (400, "officer_in_charge")


def test_tabs_and_new_lines_are_text(
    client: FlaskClient, auth: dict[str, str], clock: FakeClock
) -> None:
    case_ref = new_case(client, auth)
    summary = "Line one.\r\nLine two,\tindented."
    status, _ = _post(client, auth, f"/api/cases/{case_ref}/events", {**EVENT, "summary": summary})
    assert status == 201


def test_every_text_field_refuses_nul(
    client: FlaskClient, auth: dict[str, str], clock: FakeClock
) -> None:
    case_ref = new_case(client, auth)
    status, error = _post(
        client,
        auth,
        f"/api/cases/{case_ref}/victims",
        {"name": "Megan\x00", "phone": "+447700900555"},
    )
    assert (status, error.split(":")[0]) == (400, "name")
    for field in ("summary", "summary_cy"):
        body = {**EVENT, field: "Arrested\x00"}
        status, error = _post(client, auth, f"/api/cases/{case_ref}/events", body)
        assert (status, error.split(":")[0]) == (400, field)
    new_victim(client, auth, case_ref)
    for field in ("text_en", "text_cy"):
        body = {"send_at": "2026-12-04T09:00:00Z", field: "Hello\x00"}
        status, error = _post(client, auth, f"/api/cases/{case_ref}/scheduled-updates", body)
        assert (status, error.split(":")[0]) == (400, field)


@pytest.mark.parametrize("path", ["events", "notifications", "scheduled-updates"])
def test_a_case_reference_no_database_can_store_is_404(
    client: FlaskClient, auth: dict[str, str], path: str
) -> None:
    response = client.get(f"/api/cases/CR%00-1/{path}", headers=auth)
    if path == "events":  # POST only: the route itself answers, in JSON
        assert response.status_code == 405
    else:
        assert response.status_code == 404
    assert "error" in response.get_json()


@pytest.mark.parametrize("update_id", [2**31, 2**63, 10**30])
def test_an_id_beyond_the_column_is_404(
    client: FlaskClient, auth: dict[str, str], update_id: int
) -> None:
    case_ref = new_case(client, auth)
    url = f"/api/cases/{case_ref}/scheduled-updates/{update_id}"
    for method in ("GET", "PATCH", "DELETE"):
        response = client.open(url, method=method, json={"text_en": "x"}, headers=auth)
        assert response.status_code == 404, (method, response.get_json())
        assert "no scheduled update" in response.get_json()["error"]


@pytest.mark.parametrize("referral_id", [2**31, 2**63, 10**30])
def test_a_referral_id_beyond_the_column_is_404(
    client: FlaskClient, auth: dict[str, str], referral_id: int
) -> None:
    response = client.post(f"/api/referrals/{referral_id}/sent", headers=auth)
    assert response.status_code == 404, response.get_json()
    assert "no referral" in response.get_json()["error"]


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00"], ids=["first", "last"]
)
def test_a_time_with_no_utc_form_is_400(
    client: FlaskClient, auth: dict[str, str], moment: str
) -> None:
    case_ref = new_case(client, auth)
    status, error = _post(
        client, auth, f"/api/cases/{case_ref}/events", {**EVENT, "occurred_at": moment}
    )
    assert (status, error.split(":")[0]) == (400, "occurred_at")


def test_a_report_ending_on_the_last_day_of_the_calendar_is_400(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    response = client.get("/api/reports/compliance?from=9999-12-01&to=9999-12-31", headers=auth)
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("to:")


def test_errors_before_routing_are_json_too(client: FlaskClient, auth: dict[str, str]) -> None:
    for method, url, status in [
        ("GET", "/api/cases/CR-1/scheduled-updates/not-a-number", 404),
        ("GET", "/api/no-such-thing", 404),
        ("PUT", "/api/cases", 405),
    ]:
        response = client.open(url, method=method, headers=auth)
        assert response.status_code == status
        assert response.is_json and "error" in response.get_json()
    # Outside /api the app's own pages are untouched.
    assert not client.get("/no-such-page").is_json
