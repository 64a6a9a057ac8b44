"""On time, by the clock: the whole service (API, scheduler, worker, outbox, dev phone) with
a clock the test moves, so that quiet hours, Code limits and check-ins days apart take
seconds, not sleeps."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient

from models import Language
from services.language.texts import text
from services.settings import Settings
from tests.conftest import LiveServer
from tests.support.clock import FakeClock
from tests.support.factories import new_case, new_victim
from tests.support.handset import Handset
from workers.worker import Worker

# Both databases: the due-notifications query and the hand-over claim are SQL, and the
# check-in filter differs by dialect (julianday on SQLite).
pytestmark = [pytest.mark.e2e, pytest.mark.both_databases]

LONDON = ZoneInfo("Europe/London")
CASE = "CR-2026-0400"
QUIET = {"start": "21:00", "end": "08:00"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Look for check-ins every second: the clock, not the interval, is under test.
    return dataclasses.replace(settings, planning_interval_seconds=1.0)


def london(year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON)


def _event(client: FlaskClient, auth: dict[str, str], occurred: dt.datetime) -> dict[str, object]:
    answer = client.post(
        f"/api/cases/{CASE}/events",
        json={
            "type": "suspect_charged",
            "occurred_at": occurred.isoformat(),
            "summary": "The man arrested has been charged with burglary.",
            "summary_cy": "Mae'r dyn a arestiwyd wedi'i gyhuddo o fyrgleriaeth.",
        },
        headers=auth,
    )
    assert answer.status_code == 201, answer.get_json()
    [notification] = answer.get_json()["notifications"]
    return dict(notification)


def _outcomes_recorded(
    client: FlaskClient, auth: dict[str, str], timeout: float = 30.0
) -> list[dict[str, Any]]:
    """Wait until the worker has recorded Twilio's answer for every notification handed over;
    the case's notifications as the API lists them.

    The handset shows a message as soon as the dev phone takes it; the worker records it
    sent a moment later, stamped by the clock. A test that moved the clock in between would
    date the send days late (a check-in counts from the last update sent), a race that only
    a loaded machine loses. So a test lets the worker finish before it moves the clock.
    """
    deadline = time.monotonic() + timeout
    while True:
        listed = client.get(f"/api/cases/{CASE}/notifications", headers=auth).get_json()
        queued = [n["kind"] for n in listed if n["status"] == "queued"]
        if not queued:
            return list(listed)
        assert time.monotonic() < deadline, f"still queued after {timeout} s: {queued}"
        time.sleep(0.1)


def test_an_update_waits_out_quiet_hours_and_arrives_in_welsh_when_they_end(
    client: FlaskClient,
    auth: dict[str, str],
    clock: FakeClock,
    live_server: LiveServer,
    worker: Worker,
) -> None:
    clock.set(london(2026, 12, 2, 18, 0))
    new_case(client, auth, CASE)
    phone = Handset(live_server.url, "+447700900801")
    new_victim(client, auth, CASE, phone=phone.number, language="cy", quiet_hours=QUIET)
    assert len(phone.wait_for(1)) == 1  # the welcome, at 18:00
    _outcomes_recorded(client, auth)
    clock.set(london(2026, 12, 2, 22, 30))
    notification = _event(client, auth, clock())
    assert notification["due_by"] == "2026-12-10T00:00:00Z"  # five working days on
    assert len(phone.settle(quiet=2.5)) == 1  # 22:30 is inside quiet hours: nothing
    clock.set(london(2026, 12, 3, 7, 59))
    assert len(phone.settle(quiet=2.5)) == 1
    clock.set(london(2026, 12, 3, 8, 0))
    update = phone.wait_for(2)[-1]
    assert update["body"] == text(
        "code_update",
        Language.CY,
        case_ref=CASE,
        summary="Mae'r dyn a arestiwyd wedi'i gyhuddo o fyrgleriaeth.",
    )
    # The handset shows the message as soon as Twilio (the dev phone) takes it; the worker
    # records that ("sent", sent_at) a moment later, in a transaction of its own.
    [listed] = [n for n in _outcomes_recorded(client, auth) if n["kind"] == "code_update"]
    assert listed["within_code"] is True
    assert listed["sent_at"].startswith("2026-12-03T08:00")


def test_when_waiting_would_break_the_code_limit_it_goes_inside_quiet_hours(
    client: FlaskClient,
    auth: dict[str, str],
    clock: FakeClock,
    live_server: LiveServer,
    worker: Worker,
) -> None:
    # Enhanced rights: one working day. Charged on Thursday, recorded at 23:00 on Friday:
    # the limit is the end of Friday, so waiting for 08:00 on Saturday would be too late.
    clock.set(london(2026, 12, 3, 9, 0))
    new_case(client, auth, CASE)
    phone = Handset(live_server.url, "+447700900802")
    new_victim(client, auth, CASE, phone=phone.number, enhanced_rights=True, quiet_hours=QUIET)
    assert len(phone.wait_for(1)) == 1
    _outcomes_recorded(client, auth)
    clock.set(london(2026, 12, 4, 23, 0))
    notification = _event(client, auth, london(2026, 12, 3, 15, 0))
    assert notification["due_by"] == "2026-12-05T00:00:00Z"
    update = phone.wait_for(2)[-1]
    assert "has been charged" in update["body"]


def test_a_check_in_arrives_after_the_victims_interval(
    client: FlaskClient,
    auth: dict[str, str],
    clock: FakeClock,
    live_server: LiveServer,
    worker: Worker,
) -> None:
    clock.set(london(2026, 12, 2, 10, 0))
    new_case(client, auth, CASE)
    phone = Handset(live_server.url, "+447700900803")
    new_victim(client, auth, CASE, phone=phone.number, update_every_days=14, quiet_hours=QUIET)
    assert len(phone.wait_for(1)) == 1
    _outcomes_recorded(client, auth)
    expected = text("check_in", Language.EN, case_ref=CASE, officer="PC Ifan Rees")
    clock.advance(days=13, hours=23)
    # Meanwhile the questionnaire invitation came (after two days): it is no update.
    phone.wait_for(2)
    bodies = [m["body"] for m in phone.settle(quiet=2.5)]
    assert bodies == [
        text("welcome", Language.EN, case_ref=CASE),
        text("needs_invite", Language.EN),
    ]
    _outcomes_recorded(client, auth)
    clock.advance(hours=1)
    assert [m["body"] for m in phone.wait_for(3)][2:] == [expected]
