"""The Victims' Code compliance report: what falls in a period, what counts, the API, the CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import (
    Case,
    CaseEvent,
    CaseVictim,
    Channel,
    EventType,
    Language,
    Notification,
    NotificationKind,
    NotificationStatus,
    Victim,
)
from services.casework import reports
from services.runtime import Runtime
from services.victims_code import deadlines
from tests.support.factories import new_case, new_victim

# Both databases: period boundaries in SQL.
pytestmark = pytest.mark.both_databases

LONDON = ZoneInfo("Europe/London")
ALL_CODE_TYPES = [t.value for t in EventType if t in deadlines.code_events()]
TALLY_KEYS = {"count", "within", "late", "open", "suppressed", "excluded", "share"}
LATE_KEYS = {
    "id",
    "case_ref",
    "victim_id",
    "event_type",
    "due_by",
    "sent_at",
    "status",
    "late_by_seconds",
    "duty",
    "reason",
}


def london(day: str, clock: str = "00:00") -> dt.datetime:
    """A London wall-clock moment, as aware UTC."""
    naive = dt.datetime.fromisoformat(f"{day}T{clock}")
    return naive.replace(tzinfo=LONDON).astimezone(dt.UTC)


def limit_ending_on(day: str) -> dt.datetime:
    """The due_by whose last day in time is `day`: 00:00 London on the next day."""
    return london((dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat())


class Builder:
    """A case with one invented victim, and notifications with chosen limits and outcomes."""

    def __init__(self, session: Session, case_ref: str = "CR-2025-0100") -> None:
        self.session = session
        self.case = Case(case_ref=case_ref, crime_type="burglary", officer_in_charge="PC Rees")
        self.victim = Victim(
            name="Rhiannon Prydderch",
            phone="+447700900123",
            channel=Channel.SMS,
            language=Language.EN,
            date_of_birth=dt.date(1984, 3, 2),
        )
        session.add_all([self.case, self.victim])
        session.flush()
        session.add(CaseVictim(case_id=self.case.id, victim_id=self.victim.id))

    def add(
        self,
        event_type: EventType | None,
        due_by: dt.datetime | None,
        status: NotificationStatus,
        sent_at: dt.datetime | None = None,
    ) -> int:
        event = None
        if event_type is not None:
            event = CaseEvent(
                case_id=self.case.id,
                type=event_type,
                occurred_at=(due_by or london("2025-01-01")) - dt.timedelta(days=3),
                summary="Something happened.",
            )
            self.session.add(event)
            self.session.flush()
        notification = Notification(
            victim_id=self.victim.id,
            case_id=self.case.id,
            event_id=event.id if event else None,
            kind=NotificationKind.CODE_UPDATE if event_type else NotificationKind.WELCOME,
            due_by=due_by,
            send_at=(due_by or london("2025-01-01")) - dt.timedelta(days=2),
            status=status,
            sent_at=sent_at,
        )
        self.session.add(notification)
        self.session.flush()
        return notification.id


def _november(rt: Runtime) -> dict[str, int]:
    """A November 2025 with one of each outcome; the ids by name."""
    S = NotificationStatus
    with rt.db.session() as session:
        b = Builder(session)
        ids = {
            # In time by a second, on the last day.
            "in_time": b.add(
                EventType.SUSPECT_ARRESTED,
                limit_ending_on("2025-11-05"),
                S.SENT,
                london("2025-11-05", "23:59:59"),
            ),
            # At the limit itself: late (due_by is exclusive), by nothing.
            "at_limit": b.add(
                EventType.SUSPECT_ARRESTED,
                limit_ending_on("2025-11-05"),
                S.SENT,
                limit_ending_on("2025-11-05"),
            ),
            "two_days_late": b.add(
                EventType.SUSPECT_CHARGED,
                limit_ending_on("2025-11-10"),
                S.SENT,
                limit_ending_on("2025-11-10") + dt.timedelta(days=2),
            ),
            "never_sent": b.add(
                EventType.SUSPECT_CHARGED, limit_ending_on("2025-11-20"), S.PENDING
            ),
            "stuck_in_outbox": b.add(
                EventType.BAIL_CONDITIONS_CHANGED, limit_ending_on("2025-11-21"), S.QUEUED
            ),
            "failed": b.add(
                EventType.BAIL_CONDITIONS_CHANGED, limit_ending_on("2025-11-24"), S.FAILED
            ),
            "opted_out": b.add(
                EventType.SUSPECT_ARRESTED, limit_ending_on("2025-11-25"), S.SUPPRESSED
            ),
            # The last day of the period, and a limit the Code sets for no event (welcome).
            "last_day": b.add(
                EventType.INVESTIGATION_CLOSED,
                limit_ending_on("2025-11-30"),
                S.SENT,
                london("2025-11-28", "12:00"),
            ),
            "welcome": b.add(None, None, S.SENT, london("2025-11-02", "09:00")),
            # Outside November on either side, by the London clock.
            "october": b.add(EventType.SUSPECT_ARRESTED, limit_ending_on("2025-10-31"), S.PENDING),
            "december": b.add(EventType.SUSPECT_ARRESTED, limit_ending_on("2025-12-01"), S.PENDING),
        }
    return ids


def test_what_counts_as_within_late_and_suppressed(rt: Runtime) -> None:
    ids = _november(rt)
    now = london("2025-12-15", "10:00")
    with rt.db.session() as session:
        report = reports.compliance(session, dt.date(2025, 11, 1), dt.date(2025, 11, 30), now)
    overall = report.overall
    assert (overall.count, overall.within, overall.late) == (8, 2, 5)
    assert (overall.open, overall.suppressed, overall.excluded) == (0, 1, 0)
    assert overall.share == round(2 / 7, 4)

    late = {n.id: n for n in report.late}
    assert set(late) == {
        ids[k] for k in ("at_limit", "two_days_late", "never_sent", "stuck_in_outbox", "failed")
    }
    assert late[ids["at_limit"]].late_by == dt.timedelta(0)
    assert late[ids["two_days_late"]].late_by == dt.timedelta(days=2)
    # Unsent: late by as long as it has been overdue, and still counting.
    assert late[ids["never_sent"]].late_by == now - limit_ending_on("2025-11-20")
    assert late[ids["failed"]].status == "failed" and late[ids["failed"]].sent_at is None
    assert [n.id for n in report.late] == sorted(late, key=lambda i: (late[i].due_by, i))

    by_type = report.by_event_type
    assert list(by_type)[: len(ALL_CODE_TYPES)] == ALL_CODE_TYPES
    arrested = by_type["suspect_arrested"]
    assert (arrested.count, arrested.within, arrested.late, arrested.suppressed) == (3, 1, 1, 1)
    assert arrested.share == 0.5
    assert by_type["suspect_charged"].share == 0.0
    assert by_type["investigation_closed"].share == 1.0
    assert by_type["suspect_interviewed"].count == 0
    assert by_type["suspect_interviewed"].share is None


def test_unsent_before_its_limit_is_open_not_late(rt: Runtime) -> None:
    ids = _november(rt)
    # On 21 November: the limits of the 24th and 25th have not passed yet.
    now = london("2025-11-21", "15:00")
    with rt.db.session() as session:
        report = reports.compliance(session, dt.date(2025, 11, 1), dt.date(2025, 11, 30), now)
    assert ids["failed"] not in {n.id for n in report.late}
    assert ids["stuck_in_outbox"] not in {n.id for n in report.late}
    assert report.overall.open == 2  # the queued one (due by the 22nd) and the failed one
    assert report.overall.late == 3
    assert report.overall.share == round(2 / 5, 4)


def test_the_period_is_read_on_the_london_clock(rt: Runtime) -> None:
    with rt.db.session() as session:
        b = Builder(session)
        # Due by 00:00 London on 1 July (23:00 UTC on 30 June): its last day is 30 June.
        june = b.add(
            EventType.SUSPECT_ARRESTED, limit_ending_on("2025-06-30"), NotificationStatus.PENDING
        )
    assert limit_ending_on("2025-06-30") == dt.datetime(2025, 6, 30, 23, 0, tzinfo=dt.UTC)
    with rt.db.session() as session:
        june_report = reports.compliance(session, dt.date(2025, 6, 30), dt.date(2025, 6, 30))
        july_report = reports.compliance(session, dt.date(2025, 7, 1), dt.date(2025, 7, 31))
    assert [n.id for n in june_report.late] == [june]
    assert july_report.overall.count == 0
    assert july_report.overall.share is None


def test_api_contract_and_no_personal_details(
    client: FlaskClient, auth: dict[str, str], rt: Runtime
) -> None:
    ids = _november(rt)
    response = client.get("/api/reports/compliance?from=2025-11-01&to=2025-11-30", headers=auth)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {
        "from",
        "to",
        "generated_at",
        "overall",
        "by_event_type",
        "late",
        "duties",
        "late_acts",
    }
    assert (body["from"], body["to"]) == ("2025-11-01", "2025-11-30")
    assert body["generated_at"].endswith("Z")
    assert set(body["overall"]) == TALLY_KEYS
    assert body["overall"]["share"] == round(2 / 7, 4)
    assert [row["event_type"] for row in body["by_event_type"]] == ALL_CODE_TYPES
    for row in body["by_event_type"]:
        assert set(row) == TALLY_KEYS | {"event_type"}
    assert {row["id"] for row in body["late"]} == {
        ids[k] for k in ("at_limit", "two_days_late", "never_sent", "stuck_in_outbox", "failed")
    }
    two_days = next(row for row in body["late"] if row["id"] == ids["two_days_late"])
    assert two_days == {
        "id": ids["two_days_late"],
        "case_ref": "CR-2025-0100",
        "victim_id": two_days["victim_id"],
        "event_type": "suspect_charged",
        "due_by": "2025-11-11T00:00:00Z",
        "sent_at": "2025-11-13T00:00:00Z",
        "status": "sent",
        "late_by_seconds": 2 * 86400,
        "duty": two_days["duty"],
        # (Written today for a 2025 event: it was recorded after its limit.)
        "reason": "recorded after its limit had passed",
    }
    for row in body["late"]:
        assert set(row) == LATE_KEYS
    text = response.get_data(as_text=True)
    for personal in ("Rhiannon", "Prydderch", "7700900123", "1984-03-02"):
        assert personal not in text


def test_a_notification_the_api_planned_and_nobody_sent_is_late(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    case_ref = new_case(client, auth)
    new_victim(client, auth, case_ref, enhanced_rights=True)
    # A Monday in 2025: with enhanced rights, the limit is the end of Tuesday.
    event = {
        "type": "suspect_released_on_bail",
        "occurred_at": "2025-11-03T10:00:00Z",
        "summary": "The man arrested has been released on bail.",
    }
    planned = client.post(f"/api/cases/{case_ref}/events", json=event, headers=auth).get_json()
    [notification] = planned["notifications"]
    body = client.get("/api/reports/compliance?from=2025-11-04&to=2025-11-04", headers=auth)
    [late] = body.get_json()["late"]
    assert late["id"] == notification["id"]
    assert late["due_by"] == "2025-11-05T00:00:00Z"
    assert late["status"] == "pending" and late["sent_at"] is None
    bail = next(
        row
        for row in body.get_json()["by_event_type"]
        if row["event_type"] == "suspect_released_on_bail"
    )
    assert (bail["count"], bail["late"], bail["share"]) == (1, 1, 0.0)


def test_csv_export_has_the_figures_and_the_late_list(rt: Runtime) -> None:
    with rt.db.session() as session:
        # A reference a spreadsheet would run as a formula must arrive as text.
        b = Builder(session, case_ref="=HYPERLINK(1)")
        late_id = b.add(
            EventType.SUSPECT_CHARGED,
            limit_ending_on("2025-11-10"),
            NotificationStatus.SENT,
            limit_ending_on("2025-11-10") + dt.timedelta(hours=3, minutes=30),
        )
        b.add(
            EventType.SUSPECT_CHARGED,
            limit_ending_on("2025-11-10"),
            NotificationStatus.SENT,
            london("2025-11-07", "11:00"),
        )
        report = reports.compliance(session, dt.date(2025, 11, 1), dt.date(2025, 11, 30))
    text = report.as_csv()
    assert "Rhiannon" not in text and "900123" not in text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[:4] == [
        ["report", "Victims' Code compliance"],
        ["from", "2025-11-01"],
        ["to", "2025-11-30"],
        ["generated_at", rows[3][1]],
    ]
    header = rows.index(
        ["event_type", "count", "within", "late", "open", "suppressed", "excluded", "share"]
    )
    figures = {row[0]: row[1:] for row in rows[header + 1 : header + 2 + len(ALL_CODE_TYPES)]}
    assert figures["all"] == ["2", "1", "1", "0", "0", "0", "0.5000"]
    assert figures["suspect_charged"] == ["2", "1", "1", "0", "0", "0", "0.5000"]
    assert figures["suspect_arrested"] == ["0", "0", "0", "0", "0", "0", ""]
    late_header = rows.index(
        [
            "notification_id",
            "case_ref",
            "victim_id",
            "event_type",
            "due_by",
            "sent_at",
            "status",
            "late_by_seconds",
            "late_by_hours",
        ]
    )
    assert rows[late_header + 1 : late_header + 2] == [
        [
            str(late_id),
            "'=HYPERLINK(1)",
            rows[late_header + 1][2],
            "suspect_charged",
            "2025-11-11T00:00:00Z",
            "2025-11-11T03:30:00Z",
            "sent",
            str(3 * 3600 + 30 * 60),
            "3.5",
        ]
    ]


def test_query_errors_are_400_naming_the_parameter(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    cases = {
        "to=2025-11-30": "from",
        "from=2025-11-01": "to",
        "from=&to=2025-11-30": "from",
        "from=2025-13-01&to=2025-12-31": "from",
        "from=20251101&to=2025-11-30": "from",
        "from=01/11/2025&to=2025-11-30": "from",
        "from=2025-11-01&to=2025-11-31": "to",
        "from=2025-11-30&to=2025-11-01": "from",
        # 367 days.
        "from=2024-01-01&to=2025-01-01": "to",
    }
    for query, name in cases.items():
        response = client.get(f"/api/reports/compliance?{query}", headers=auth)
        assert response.status_code == 400, query
        assert response.get_json()["error"].startswith(f"{name}: "), (query, response.get_json())
    # 366 days (a leap year) is the longest period.
    whole_year = client.get("/api/reports/compliance?from=2024-01-01&to=2024-12-31", headers=auth)
    assert whole_year.status_code == 200
    assert client.get("/api/reports/compliance?from=2025-11-01&to=2025-11-30").status_code == 401


def test_a_withdrawn_notification_is_excluded_not_late(rt: Runtime) -> None:
    with rt.db.session() as session:
        b = Builder(session)
        cancelled = b.add(
            EventType.SUSPECT_ARRESTED, limit_ending_on("2025-11-05"), NotificationStatus.CANCELLED
        )
        report = reports.compliance(session, dt.date(2025, 11, 1), dt.date(2025, 11, 30))
    assert (report.overall.count, report.overall.excluded, report.overall.late) == (1, 1, 0)
    assert report.overall.share is None
    assert cancelled not in {n.id for n in report.late}
